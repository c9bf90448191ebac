package graph

import (
	"context"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/events"
)

// followOrder sends the order as it is now, then every change, and ends when the order
// ends or ctx does. Notices only say "changed"; the order is re-read through the viewer's
// privacy rules every time. When several transitions happened between two reads, one
// update per step is sent (the order as it is now, with that step's state), so a client
// sees every state in order.
func (r *Resolver) followOrder(ctx context.Context, id string) (<-chan *ent.Order, error) {
	// Subscribe before the first read, so a change between the two is not missed.
	subCtx, cancel := context.WithCancel(ctx)
	notices, err := r.Events.Subscribe(subCtx, events.OrderKey(id))
	if err != nil {
		cancel()
		return nil, err
	}
	o, err := notFound(r.DB.Order.Get(ctx, id))
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan *ent.Order, 1)
	unsubscribed := r.Metrics.Subscribed()
	go func() {
		defer unsubscribed()
		defer cancel()
		defer close(out)
		send := func(o *ent.Order) bool {
			select {
			case out <- o:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !send(o) || enroll.IsFinal(o.State) {
			return
		}
		version, steps := o.Version, len(o.Steps)
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-notices:
				if !ok {
					return
				}
			}
			cur, err := r.DB.Order.Get(ctx, id)
			if err != nil {
				r.Log.Warn("re-read order for subscription", "order", id, "err", err)
				return
			}
			if cur.Version == version {
				continue
			}
			for i := steps; i < len(cur.Steps)-1; i++ {
				past := *cur
				past.State = order.State(cur.Steps[i].State)
				if !send(&past) {
					return
				}
			}
			if !send(cur) || enroll.IsFinal(cur.State) {
				return
			}
			version, steps = cur.Version, len(cur.Steps)
		}
	}()
	return out, nil
}
