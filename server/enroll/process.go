package enroll

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
)

// Definition declares one process: everything the engine needs to offer, start, move and
// end its orders. The built-in processes are in processes.go; see the package doc for how
// to add one.
type Definition struct {
	// Name is the symbolic name, e.g. "get-virtual-smart-card": stored on each order, named
	// in the hand-off link, and what startProcess takes.
	Name string
	// DisplayName and Description are message keys, not words: the portal has the words
	// (in every language it speaks), e.g. "process.get-virtual-smart-card.name".
	DisplayName, Description string
	// Starters says who may start the process.
	Starters Starter
	// UserStates are the states the person the order is for must be in, to start it and
	// for the Desktop App to claim it (default: ACTIVE).
	UserStates []user.State
	// CardStates, when set, make this a card process: it acts on an existing card of the
	// person (the order's subject card), which must be in one of these states to start it.
	// A process without them makes something new and is offered without a card.
	CardStates []card.State
	// Options makes the start evaluate the option script for the person and keep the
	// result on the order (needed to make a card or certificates).
	Options bool
	// Forward is the happy path: each running state and the one state it moves to. Every
	// order also may end (CANCELLED, FAILED, EXPIRED) from any running state. This table
	// is the only thing that decides whether a move is legal (Engine.transition).
	Forward map[order.State]order.State
	// Next are the steps the person makes (nextStep), by the state they start from.
	Next map[order.State]Step
	// Bridge are the generic steps the Desktop App reports done (Engine.BridgeNext), by the
	// state they start from. get-virtual-smart-card uses its own bridge calls instead
	// (ReportCardCreation, SubmitKeys, ConfirmCardReady), which go through the same table.
	Bridge map[order.State]Step
	// Claim, set for a process that hands off to the Desktop App, says what the Desktop
	// App gets when it claims the order. The step that hands off is the Next step marked
	// Handoff.
	Claim ClaimFunc
	// Undo is what an ending (cancel, failure, expiry) undoes.
	Undo Undo
	// NewCard says that the process makes a new card with the Desktop App (its claim makes
	// the card record): get-virtual-smart-card, and replace-virtual-smart-card, a card
	// process that makes the card's successor. Only such a process may undo a new card.
	NewCard bool
	// NeedsPUK says that the process unblocks the card with its PUK (reset-pin): it is not
	// offered while the Desktop App reported the card's PUK blocked (UnavailablePUKBlocked),
	// where only a new card helps.
	NeedsPUK bool
	// SelfMay, when set, narrows BySelf: the person may start the process on their own
	// only where the option script in force for them allows it (e.g. unlock).
	SelfMay func(*cardspec.Options) bool
	// Issues, set for a card process that issues certificates to the card it acts on
	// (renew, issue-certificates), says which; see Issuing.
	Issues *Issuing
}

// Issuing is how a card process issues certificates to the card it acts on, through the
// same Desktop App steps as a new card's (claim, SubmitKeys, ConfirmCardReady): the claim
// gives the card's serial and management key and the certificates to make, and the order
// completes when the Desktop App confirms they are on the card.
type Issuing struct {
	// Select picks, from the certificates the option script asks for (want), those the
	// order issues, given the certificates the card has now that still count (have:
	// VALID or ON_HOLD). None means there is nothing to do: the process is not available
	// on the card (NOTHING_TO_ISSUE).
	Select func(want []cardspec.CertificateSpec, have []*ent.Certificate) []cardspec.CertificateSpec
	// Renew moves the card's validity on by the option script's, from the order's start,
	// and revokes the certificates the new ones replace (same slot) as superseded, once
	// the Desktop App confirmed the new ones are on the card; not before, so that a run
	// that ends early leaves the card working with what it had.
	Renew bool
}

// Starter says who may start a process; a process allows any combination.
type Starter uint8

const (
	// BySelf: a person for themself, or on their own card.
	BySelf Starter = 1 << iota
	// ByOperator: an administrator for someone else, or on their card.
	ByOperator
	// BySystem: the server on its own behalf, e.g. an expiry check (StartAsSystem).
	BySystem
)

// Undo says what an order's ending undoes; endings of every kind undo the same.
type Undo uint8

const (
	// UndoCertificates revokes what the order issued, in the identity store and at the CA
	// (and the sweep checks the CA again later).
	UndoCertificates Undo = 1 << iota
	// UndoNewCard deletes the card the order made while that card is still REGISTERED.
	UndoNewCard
)

// Step is one move the person or the Desktop App makes from a state.
type Step struct {
	// To is where the step goes; it must be the process's Forward move from its state.
	To order.State
	// Action names the audit event (default "order.next").
	Action string
	// Note goes into the order's history; never a secret.
	Note string
	// Handoff makes the step hand the order to the Desktop App: it returns a hand-off link.
	// Its To is AWAITING_DESKTOP_APP, and the process has a Claim.
	Handoff bool
	// Do writes what the step changes, inside the transition's transaction once the
	// order's version check passed (activate a card, lock it...). A Do that finds nothing
	// to change (the card changed meanwhile) returns an error and the step does not happen.
	Do func(ctx context.Context, tx *ent.Tx, o *ent.Order) error
	// Writes, when set, says the step's changes as rows and the conditions they need,
	// which the transition writes in its own statement (one round trip on PostgreSQL)
	// instead of a transaction around Do. A condition that does not hold refuses the step.
	Writes func(o *ent.Order) ([]write, []condition)
	// Choices are the yes/no choices the person makes with the step (the wizard's form),
	// by name, with their defaults; Do reads them with choicesOf. A choice the step does
	// not offer is refused.
	Choices map[string]bool
	// After runs once the step's transition has committed, for what must not happen inside
	// a database transaction (telling the CA); what it leaves undone the sweep repairs.
	After func(ctx context.Context, e *Engine, o *ent.Order)
}

// ClaimFunc prepares what the Desktop App gets when it claims o with the hand-off token:
// the card set-up it works on, and the writes that go with the claim's transition.
type ClaimFunc func(ctx context.Context, e *Engine, o *ent.Order, device *record.Device) (*Claimed, error)

// Claimed is a ClaimFunc's result.
type Claimed struct {
	// Card is what the Desktop App writes to or checks on the card.
	Card *CardSetup
	// Details go into the claim's audit event.
	Details map[string]any
	// Writes are rows the claim's transition writes in its own statement (e.g. the new
	// card record). A claim whose write meets a taken card serial is made again.
	Writes []write
	// Then runs inside the claim's transition, for what Writes cannot say.
	Then func(ctx context.Context, tx *ent.Tx, o *ent.Order) error
}

// Unavailable says why a process cannot be started; the portal puts it into words.
type Unavailable string

const (
	// UnavailableUserNotActive: the person the order would be for is not in a state the
	// process needs.
	UnavailableUserNotActive Unavailable = "USER_NOT_ACTIVE"
	// UnavailableCardState: the card is not in a state the process acts on.
	UnavailableCardState Unavailable = "CARD_NOT_IN_REQUIRED_STATE"
	// UnavailableOrderRunning: the person has an order in progress; it must end first.
	UnavailableOrderRunning Unavailable = "ORDER_RUNNING"
	// UnavailableNotPermitted: the caller may not start the process (on this card).
	UnavailableNotPermitted Unavailable = "NOT_PERMITTED"
	// UnavailableNothingToIssue: the card already has every certificate the process would
	// issue (e.g. adding certificates to a card that has all the option script asks for).
	UnavailableNothingToIssue Unavailable = "NOTHING_TO_ISSUE"
	// UnavailablePUKBlocked: the process needs the card's PUK, which is blocked; the
	// portal offers to replace the card instead.
	UnavailablePUKBlocked Unavailable = "PUK_BLOCKED"
)

// MarshalGQL writes u as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (u Unavailable) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(u))) }

// UnmarshalGQL reads u from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (u *Unavailable) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	switch Unavailable(s) {
	case UnavailableUserNotActive, UnavailableCardState, UnavailableOrderRunning, UnavailableNotPermitted,
		UnavailableNothingToIssue, UnavailablePUKBlocked:
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("%v is not a ProcessUnavailableReason", v)
	}
	*u = Unavailable(s)
	return nil
}

// OnCard reports whether d acts on an existing card.
func (d *Definition) OnCard() bool { return len(d.CardStates) > 0 }

// CanMove reports whether an order of d may move from -> to: forward along d's table, or
// to an ending from any running state. A nil d (an order of a process this server no
// longer knows) may still end, so that it can be cancelled and swept.
func (d *Definition) CanMove(from, to order.State) bool {
	if IsFinal(from) {
		return false
	}
	if slices.Contains(endings, to) {
		return true
	}
	return d != nil && d.Forward[from] == to
}

// userMay reports whether a person in state s may have an order of d.
func (d *Definition) userMay(s user.State) bool {
	if len(d.UserStates) == 0 {
		return s == user.StateACTIVE
	}
	return slices.Contains(d.UserStates, s)
}

// running are the states an order can still leave: every state of the ent enum that is not
// final, whichever process uses it. Queries look a list of states up in an index, not the
// complement of one. A new state added to the enum for a process goes here too; register
// refuses a table that uses a state missing from it.
var running = []order.State{
	order.StateSTARTED, order.StateAWAITING_DESKTOP_APP, order.StateDESKTOP_APP_CONNECTED,
	order.StateCREATING_CARD, order.StateISSUING_CERTIFICATES, order.StateCARD_READY,
	order.StateRESETTING_PIN,
}

// endings are reachable from every state that is not final.
var endings = []order.State{order.StateCANCELLED, order.StateFAILED, order.StateEXPIRED}

// IsFinal reports whether an order in state s can no longer change.
func IsFinal(s order.State) bool {
	return s == order.StateCOMPLETED || slices.Contains(endings, s)
}

// registry holds the processes an engine runs, in the order they are offered.
type registry struct {
	list   []*Definition
	byName map[string]*Definition
}

func newRegistry(defs ...*Definition) *registry {
	r := &registry{byName: map[string]*Definition{}}
	for _, d := range defs {
		if err := r.register(d); err != nil {
			panic(err) // a built-in process is wrong: a programming error, found by any test
		}
	}
	return r
}

// register adds d after checking that its declaration is consistent, so that a mistake in
// a new process shows at start-up (and in every test), not in the middle of an order.
func (r *registry) register(d *Definition) error {
	if err := d.check(); err != nil {
		return fmt.Errorf("register process %q: %w", d.Name, err)
	}
	if _, dup := r.byName[d.Name]; dup {
		return fmt.Errorf("register process %q: registered twice", d.Name)
	}
	r.list = append(r.list, d)
	r.byName[d.Name] = d
	return nil
}

// lookup returns the process named name, or a NOT_FOUND error.
func (r *registry) lookup(name string) (*Definition, error) {
	if d, ok := r.byName[name]; ok {
		return d, nil
	}
	return nil, errs.New(errs.NotFound, "There is no process named %q.", name).
		WithDetails(map[string]any{"process": name})
}

// of returns the process of o, or nil for a process this server does not know.
func (r *registry) of(o *ent.Order) *Definition { return r.byName[o.Process] }

func (d *Definition) check() error {
	switch {
	case d.Name == "":
		return fmt.Errorf("no name")
	case d.DisplayName == "" || d.Description == "":
		return fmt.Errorf("no display name or description key")
	case d.Starters == 0:
		return fmt.Errorf("nobody may start it")
	case len(d.Forward) == 0:
		return fmt.Errorf("no states")
	}
	// The table leads from STARTED to COMPLETED through running states, without a loop.
	seen := map[order.State]bool{}
	for s := order.StateSTARTED; s != order.StateCOMPLETED; s = d.Forward[s] {
		if !slices.Contains(running, s) {
			return fmt.Errorf("state %s is not a running state (add it to the enum and to running)", s)
		}
		if seen[s] {
			return fmt.Errorf("the table loops at %s", s)
		}
		seen[s] = true
		if _, ok := d.Forward[s]; !ok {
			return fmt.Errorf("the table ends at %s, not COMPLETED", s)
		}
	}
	if len(seen) != len(d.Forward) {
		return fmt.Errorf("the table has states not on the way from STARTED to COMPLETED")
	}
	handsOff := false
	for _, steps := range []map[order.State]Step{d.Next, d.Bridge} {
		for from, st := range steps {
			if d.Forward[from] != st.To {
				return fmt.Errorf("step %s -> %s is not in the table", from, st.To)
			}
			if st.Handoff {
				handsOff = true
				if st.To != order.StateAWAITING_DESKTOP_APP {
					return fmt.Errorf("the hand-off step goes to %s, not AWAITING_DESKTOP_APP", st.To)
				}
			}
		}
	}
	for from := range d.Bridge {
		if d.Next[from].To != "" {
			return fmt.Errorf("both the person and the Desktop App move on from %s", from)
		}
		if d.Bridge[from].Handoff {
			return fmt.Errorf("the Desktop App cannot hand off to itself")
		}
	}
	if handsOff != (d.Claim != nil) {
		return fmt.Errorf("a process hands off to the Desktop App exactly when it says what the Desktop App claims")
	}
	if handsOff && d.Forward[order.StateAWAITING_DESKTOP_APP] != order.StateDESKTOP_APP_CONNECTED {
		return fmt.Errorf("AWAITING_DESKTOP_APP must move to DESKTOP_APP_CONNECTED (the claim)")
	}
	if d.Undo&UndoNewCard != 0 && !d.NewCard {
		return fmt.Errorf("a process that makes no new card has none to undo")
	}
	if d.Issues != nil {
		switch {
		case !d.OnCard() || !d.Options || d.Claim == nil:
			return fmt.Errorf("a process that issues to a card acts on a card, evaluates the options and hands off")
		case d.Forward[order.StateISSUING_CERTIFICATES] != order.StateCOMPLETED:
			return fmt.Errorf("a process that issues to a card completes when the certificates are on it")
		case d.Undo&UndoCertificates == 0:
			return fmt.Errorf("a process that issues to a card revokes what it issued when it ends early")
		}
	}
	return nil
}
