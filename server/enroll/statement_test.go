package enroll

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// TestTransitionWritesAtomically: a transition's further rows and audit event are written
// with the order's version-checked update and only with it, on every store (PostgreSQL:
// one statement; SQLite: a transaction). A stale transition and one whose condition does
// not hold change nothing and say why.
func TestTransitionWritesAtomically(t *testing.T) {
	for name, dsn := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			ctx := viewer.AsServer(context.Background())
			db, err := store.Open(ctx, dsn(t), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			e := New(db.Client, nil, events.NewLocal(), nil, nil, Config{Dialect: db.Dialect}, slog.New(slog.DiscardHandler))
			u := db.Client.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject("s").SetUsername("ann").SaveX(ctx)
			now := time.Now()
			o := db.Client.Order.Create().SetUserID(u.ID).SetState(order.StateSTARTED).
				SetSteps([]record.OrderStep{{State: "STARTED", At: now}}).SetExpiresAt(now.Add(time.Hour)).SaveX(ctx)

			events := func() int {
				return db.Client.AuditEvent.Query().Where(auditevent.ObjectID(o.ID)).CountX(ctx)
			}
			cardRow := func(serial string) write {
				return insertRow(card.Table, card.FieldID, card.DefaultID(), card.FieldCreatedAt, now, card.FieldUpdatedAt, now,
					card.FieldSerial, serial, card.FieldKind, card.DefaultKind, card.FieldState, card.StateREGISTERED,
					card.FieldValidFrom, now, card.FieldValidUntil, now.Add(time.Hour),
					card.FieldProperties, map[string]any{}, card.FieldDevice, record.Device{Reader: "r"},
					card.FieldManagementKey, []byte{1}, card.FieldPuk, []byte{2},
					card.FieldOwnerID, u.ID, card.FieldOrderID, o.ID)
			}

			next, err := e.transition(ctx, o, move{to: order.StateAWAITING_DESKTOP_APP, action: "order.next",
				writes: []write{cardRow("11111111")}})
			if err != nil {
				t.Fatal(err)
			}
			if next.Version != o.Version+1 || next.State != order.StateAWAITING_DESKTOP_APP {
				t.Errorf("transition returned %s v%d", next.State, next.Version)
			}
			if got := events(); got != 1 {
				t.Errorf("%d audit events after the transition, want 1", got)
			}
			if n := db.Client.Card.Query().Where(card.OrderID(o.ID)).CountX(ctx); n != 1 {
				t.Errorf("%d cards after the transition, want 1", n)
			}

			// o is stale now: its transition loses and writes neither its row nor its event.
			_, err = e.transition(ctx, o, move{to: order.StateCANCELLED, action: "order.cancel"})
			if errs.CodeOf(err) != errs.IllegalState {
				t.Errorf("stale cancel: %v, want ILLEGAL_STATE", err)
			}
			_, err = e.transition(ctx, o, move{to: order.StateAWAITING_DESKTOP_APP, action: "order.next",
				writes: []write{cardRow("22222222")}})
			if errs.CodeOf(err) != errs.IllegalState {
				t.Errorf("stale transition: %v, want ILLEGAL_STATE", err)
			}
			if got := events(); got != 1 {
				t.Errorf("%d audit events after lost races, want 1", got)
			}
			if n := db.Client.Card.Query().Where(card.Serial("22222222")).CountX(ctx); n != 0 {
				t.Errorf("a lost transition wrote its card")
			}

			// A condition that does not hold: nothing changes, its error is the answer.
			refused := errs.New(errs.IllegalState, "The order has no card to activate.")
			_, err = e.transition(ctx, next, move{to: order.StateDESKTOP_APP_CONNECTED, action: "order.claim",
				writes: []write{updateRows(card.Table, sql.EQ(card.FieldOrderID, o.ID), card.FieldState, card.StateACTIVE)},
				requires: []condition{{
					holds: sql.P(func(b *sql.Builder) {
						b.WriteString(`EXISTS (SELECT 1 FROM "cards" WHERE "cards"."order_id" = `).Arg(o.ID).
							WriteString(` AND "cards"."state" = `).Arg(card.StateACTIVE).WriteString(")")
					}),
					why: func(context.Context) error { return refused },
				}}})
			if err != refused {
				t.Errorf("transition with an unmet condition: %v, want its error", err)
			}
			cur := db.Client.Order.GetX(ctx, o.ID)
			if cur.Version != next.Version || events() != 1 ||
				db.Client.Card.Query().Where(card.StateEQ(card.StateACTIVE)).CountX(ctx) != 0 {
				t.Errorf("an unmet condition changed something: order v%d (want v%d), %d events", cur.Version, next.Version, events())
			}

			// The same move once the condition holds goes through, with its write.
			db.Client.Card.Update().Where(card.OrderID(o.ID)).SetState(card.StateACTIVE).ExecX(ctx)
			if _, err := e.transition(ctx, next, move{to: order.StateDESKTOP_APP_CONNECTED, action: "order.claim",
				requires: []condition{{
					holds: sql.P(func(b *sql.Builder) {
						b.WriteString(`EXISTS (SELECT 1 FROM "cards" WHERE "cards"."order_id" = `).Arg(o.ID).
							WriteString(` AND "cards"."state" = `).Arg(card.StateACTIVE).WriteString(")")
					}),
					why: func(context.Context) error { return refused },
				}}}); err != nil {
				t.Errorf("transition whose condition holds: %v", err)
			}
			if got := events(); got != 2 {
				t.Errorf("%d audit events, want 2", got)
			}
		})
	}
}
