package vpcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNoFreeSlot is returned by Pool.Attach when every slot holds a card.
var ErrNoFreeSlot = errors.New("no free vpcd slot")

// ErrNotAttached is returned by Pool.Detach for a card the pool does not
// hold.
var ErrNotAttached = errors.New("card not attached")

// Pool serves several cards on several vpcd slots, one card per slot.
type Pool struct {
	addrs []string
	opts  Options

	mu    sync.Mutex
	slots map[string]*Attachment // by address
	cards map[Card]string        // address of each attached card
}

// NewPool returns a pool over the given slot addresses (host:port), in the
// order they are handed out.
func NewPool(addrs []string, opts Options) *Pool {
	return &Pool{
		addrs: append([]string(nil), addrs...),
		opts:  opts,
		slots: map[string]*Attachment{},
		cards: map[Card]string{},
	}
}

// Attach puts card into the first free slot and returns the slot's
// address. The card stays attached until Detach, Close or the end of ctx.
func (p *Pool) Attach(ctx context.Context, card Card) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr, ok := p.cards[card]; ok {
		return "", fmt.Errorf("attach card: already in slot %s", addr)
	}
	for _, addr := range p.addrs {
		if a, busy := p.slots[addr]; busy {
			select {
			case <-a.Done(): // ended with its context: the slot is free
			default:
				continue
			}
			delete(p.cards, a.card)
		}
		p.slots[addr] = Attach(ctx, addr, card, p.opts)
		p.cards[card] = addr
		return addr, nil
	}
	return "", fmt.Errorf("attach card: %w", ErrNoFreeSlot)
}

// Free returns how many slots hold no card (or one whose attachment ended).
func (p *Pool) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, addr := range p.addrs {
		if a, busy := p.slots[addr]; busy {
			select {
			case <-a.Done():
			default:
				continue
			}
		}
		n++
	}
	return n
}

// Attachment returns the attachment of card, or nil.
func (p *Pool) Attachment(card Card) *Attachment {
	p.mu.Lock()
	defer p.mu.Unlock()
	addr, ok := p.cards[card]
	if !ok {
		return nil
	}
	return p.slots[addr]
}

// Detach removes card from its slot and waits until the connection is
// closed.
func (p *Pool) Detach(card Card) error {
	p.mu.Lock()
	addr, ok := p.cards[card]
	a := p.slots[addr]
	if ok {
		delete(p.cards, card)
		delete(p.slots, addr)
	}
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("detach card: %w", ErrNotAttached)
	}
	a.Detach()
	return nil
}

// Close detaches every card.
func (p *Pool) Close() {
	p.mu.Lock()
	all := make([]*Attachment, 0, len(p.slots))
	for _, a := range p.slots {
		all = append(all, a)
	}
	p.slots, p.cards = map[string]*Attachment{}, map[Card]string{}
	p.mu.Unlock()
	for _, a := range all {
		a.Detach()
	}
}
