// Package audit writes the append-only audit log: who did what to which object, when and
// from where. Callers pass the AuditEvent client of their transaction so the event commits
// or rolls back together with the change it describes.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/viewer"
)

// Entry is one audit event. The actor comes from the viewer in the context: the person,
// portal or bridge whose request it is, also when the server acts for them
// (viewer.AsServer); a Desktop App that proved it holds a card (AsCard); without either,
// the server acting on its own behalf ("system") or an anonymous request.
type Entry struct {
	Action     string // e.g. "order.cancel", "user.set_state", "auth.login"
	ObjectType string // e.g. "Order"
	ObjectID   string
	// Subject is the person the event is about, by id: a card's, an order's or a
	// certificate's owner. An event about a User is about them without it (SubjectOf).
	Subject string
	// Details must never hold a secret (PIN, PUK, keys, tokens).
	Details map[string]any
}

// Write records e as done by the viewer in ctx, at now.
func Write(ctx context.Context, c *ent.AuditEventClient, e Entry) error {
	return WriteAll(ctx, c, e)
}

// WriteAll records entries as done by the viewer in ctx, at now, in one statement.
func WriteAll(ctx context.Context, c *ent.AuditEventClient, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	a := Actor(ctx)
	now := time.Now()
	rows := make([]*ent.AuditEventCreate, len(entries))
	for i, e := range entries {
		rows[i] = c.Create().
			SetAt(now).
			SetActor(a.Name).
			SetActorID(a.UserID).
			SetActorKind(a.Kind).
			SetAction(e.Action).
			SetObjectType(e.ObjectType).
			SetObjectID(e.ObjectID).
			SetRemoteAddr(a.Addr).
			SetSubjectID(SubjectOf(e)).
			SetDetails(Reasoned(ctx, e.Details))
	}
	if err := c.CreateBulk(rows...).Exec(viewer.AsServer(ctx)); err != nil {
		return fmt.Errorf("write audit events %s: %w", entries[0].Action, err)
	}
	return nil
}

// SubjectOf is the person e is about: e.Subject, or the person themself for an event
// about a User; "" for an event about no one.
func SubjectOf(e Entry) string {
	if e.Subject == "" && e.ObjectType == "User" {
		return e.ObjectID
	}
	return e.Subject
}

// About is entries, each about the person subject unless it names its own: the events of
// one order, all about its owner.
func About(subject string, entries ...Entry) []Entry {
	for i := range entries {
		if entries[i].Subject == "" {
			entries[i].Subject = subject
		}
	}
	return entries
}

func kindName(k viewer.Kind) string {
	switch k {
	case viewer.KindUser:
		return "user"
	case viewer.KindPortal:
		return "portal"
	case viewer.KindBridge:
		return "bridge"
	}
	return "unknown"
}

// Who is the actor of audit events: a name (a username, a portal's client id,
// "bridge:<order>", "card:<serial>", "system", "anonymous"), its kind, the person's id for
// a person and for the Desktop App acting for its order's or card's owner, and the address
// the request came from.
type Who struct {
	Name, Kind, UserID, Addr string
}

// KindCard is the actor kind of a Desktop App that proved it holds a card (a card's own
// contact: syncCard), whose events are the card owner's Desktop App's doing.
const KindCard = "card"

type cardActorKey struct{}

// AsCard returns ctx whose events name as their actor the Desktop App that proved it holds
// the card serial of owner, from the request's address. A card's contact has no viewer:
// without this, what it reports would read as done by someone not signed in.
func AsCard(ctx context.Context, serial, owner string) context.Context {
	return context.WithValue(ctx, cardActorKey{}, Who{Name: "card:" + serial, Kind: KindCard,
		UserID: owner, Addr: viewer.RemoteAddr(ctx)})
}

// Actor is who audit events written in ctx name as their actor. A caller that writes
// events with a statement of its own (server/enroll's one-statement transitions) fills
// its rows from here.
func Actor(ctx context.Context) Who {
	if w, ok := ctx.Value(cardActorKey{}).(Who); ok {
		return w
	}
	v := viewer.FromContext(ctx)
	switch {
	case v != nil:
		w := Who{Name: v.Name, Kind: kindName(v.Kind), Addr: v.RemoteAddr}
		if v.Kind == viewer.KindUser || v.Kind == viewer.KindBridge {
			w.UserID = v.UserID
		}
		return w
	case viewer.ActsAsServer(ctx):
		return Who{Name: "system", Kind: "system"}
	}
	return Who{Name: "anonymous", Kind: "anonymous", Addr: viewer.RemoteAddr(ctx)}
}
