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
// (viewer.AsServer); without a viewer, the server acting on its own behalf ("system") or
// an anonymous request.
type Entry struct {
	Action     string // e.g. "order.cancel", "user.set_state", "auth.login"
	ObjectType string // e.g. "Order"
	ObjectID   string
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
	actor, kind, addr := Actor(ctx)
	now := time.Now()
	rows := make([]*ent.AuditEventCreate, len(entries))
	for i, e := range entries {
		rows[i] = c.Create().
			SetAt(now).
			SetActor(actor).
			SetActorKind(kind).
			SetAction(e.Action).
			SetObjectType(e.ObjectType).
			SetObjectID(e.ObjectID).
			SetRemoteAddr(addr).
			SetDetails(e.Details)
	}
	if err := c.CreateBulk(rows...).Exec(viewer.AsServer(ctx)); err != nil {
		return fmt.Errorf("write audit events %s: %w", entries[0].Action, err)
	}
	return nil
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

// Actor is who audit events written in ctx name as their actor: the actor, its kind and
// the address the request came from. A caller that writes events with a statement of its
// own (server/enroll's one-statement transitions) fills its rows from here.
func Actor(ctx context.Context) (actor, kind, addr string) {
	v := viewer.FromContext(ctx)
	actor, kind, addr = "anonymous", "anonymous", ""
	if v == nil && viewer.ActsAsServer(ctx) {
		actor, kind = "system", "system"
	}
	if v != nil {
		actor, kind, addr = v.Name, kindName(v.Kind), v.RemoteAddr
		if v.UserID != "" && v.Kind == viewer.KindUser {
			actor = v.Name + " (" + v.UserID + ")"
		}
	}
	return actor, kind, addr
}
