package enroll

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/viewer"
)

// Claim is what the bridge gets once, when it claims an order with the hand-off token.
type Claim struct {
	Order            *ent.Order
	Process          string
	SessionToken     string
	SessionExpiresAt time.Time
	VerificationCode string
	UserName         string
	Card             *CardSetup
}

// CardSetup is what the bridge writes to the new card. The management key and PUK are
// generated here and kept encrypted; the PIN is chosen on the desktop and never sent.
type CardSetup struct {
	Serial        string
	ManagementKey string // hex, 24 bytes (AES-192)
	PUK           string
	PINPolicy     cardspec.PINPolicy
	Certificates  []cardspec.CertificateSpec
	Properties    cardspec.Properties
	ValidUntil    time.Time
}

// Claim hands the order to the desktop bridge that presents the one-time token: it gets a
// bridge session bound to the order and what the order's process gives it (for
// get-virtual-smart-card: a new card record, REGISTERED, with fresh credentials).
func (e *Engine) Claim(ctx context.Context, orderID, token string, device *record.Device) (*Claim, error) {
	if err := e.claims.allow(orderID, "attempts to open this order in the Desktop App"); err != nil {
		return nil, err
	}
	sys := viewer.AsServer(ctx)
	o, err := e.db.Order.Query().Where(order.ID(orderID), withOwner).Only(sys)
	// Unknown order and wrong token look the same from outside: nothing to probe.
	if ent.IsNotFound(err) || (err == nil && !tokenMatches(o.TokenHash, token)) {
		return nil, errs.New(errs.TokenInvalid, "This Desktop App link is not valid. Start again from the portal.")
	}
	if err != nil {
		return nil, fmt.Errorf("load order: %w", err)
	}
	if o.TokenUsedAt != nil {
		return nil, errs.New(errs.TokenUsed, "This Desktop App link was already used. Open a new one from the portal.")
	}
	if o.TokenExpiresAt == nil || !e.now().Before(*o.TokenExpiresAt) {
		return nil, errs.New(errs.TokenExpired, "This Desktop App link has expired. Open a new one from the portal.")
	}
	if o.State != order.StateAWAITING_DESKTOP_APP {
		return nil, illegal(o.State, order.StateDESKTOP_APP_CONNECTED)
	}
	proc := e.procs.of(o)
	if proc == nil || proc.Claim == nil {
		return nil, errs.New(errs.IllegalState, "This order is not one the Desktop App works on.")
	}
	owner := orderOwner(o) // read with the order
	if owner == nil {
		if owner, err = e.db.User.Get(sys, o.UserID); err != nil {
			return nil, fmt.Errorf("load order owner: %w", err)
		}
	}
	if err := refuseInactive(proc, owner); err != nil {
		return nil, err
	}
	if device == nil {
		device = &record.Device{}
	}
	// From here the request is the Desktop App acting for the order's owner, as its bridge
	// session will be: the audit log names it so rather than as an anonymous caller.
	ctx = viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.KindBridge, UserID: o.UserID, OrderID: o.ID, Name: "bridge:" + o.ID,
		RemoteAddr: viewer.RemoteAddr(ctx),
	})
	now := e.now()
	session := BridgeSessionPrefix + newToken()
	sessionExpires := now.Add(e.cfg.BridgeSessionTTL)
	// A process that makes a card picks its serial at random and the card's unique serial
	// refuses one that is taken: then the claim is made again with another, instead of
	// asking first every time.
	var updated *ent.Order
	var claimed *Claimed
	for range 10 {
		if claimed, err = proc.Claim(ctx, e, o, device); err != nil {
			return nil, err
		}
		updated, err = e.transition(ctx, o, move{
			to: order.StateDESKTOP_APP_CONNECTED, action: "order.claim",
			note:    "Desktop App connected" + deviceNote(device),
			details: claimed.Details,
			set: func(m *ent.OrderMutation) {
				m.SetTokenUsedAt(now)
				m.SetBridgeSessionHash(hashToken(session))
				m.SetBridgeSessionExpiresAt(sessionExpires)
			},
			writes: claimed.Writes,
			then:   claimed.Then,
		})
		if !serialTaken(err) {
			break
		}
	}
	if serialTaken(err) {
		return nil, errs.New(errs.Internal, "No free card serial found.")
	}
	if err != nil {
		// Lost a race with another claim of the same link: say so plainly.
		if cur, rerr := e.db.Order.Get(sys, orderID); rerr == nil && cur.TokenUsedAt != nil &&
			errs.CodeOf(err) == errs.IllegalState {
			return nil, errs.New(errs.TokenUsed, "This Desktop App link was already used. Open a new one from the portal.")
		}
		return nil, err
	}
	name := owner.DisplayName
	if name == "" {
		name = owner.Username
	}
	return &Claim{
		Order:            updated,
		Process:          updated.Process,
		SessionToken:     session,
		SessionExpiresAt: sessionExpires,
		VerificationCode: o.VerificationCode,
		UserName:         name,
		Card:             claimed.Card,
	}, nil
}

// AuthenticateBridge turns a bridge session token into a viewer bound to its order.
func (e *Engine) AuthenticateBridge(ctx context.Context, token string) (*viewer.Viewer, error) {
	if !strings.HasPrefix(token, BridgeSessionPrefix) {
		return nil, errs.New(errs.Unauthenticated, "Not a Desktop App session.")
	}
	q := e.db.Order.Query().Where(order.BridgeSessionHash(hashToken(token)))
	if e.cfg.Dialect == dialect.Postgres {
		// Not on SQLite: its driver reports no column type for a NULL, which ent cannot
		// scan, and the card is NULL until the claim. There the call reads the card.
		q.Where(withCard)
	}
	o, err := q.Only(viewer.AsServer(ctx))
	if err != nil {
		return nil, errs.New(errs.Unauthenticated, "The Desktop App session is not valid.")
	}
	if o.BridgeSessionExpiresAt == nil || !e.now().Before(*o.BridgeSessionExpiresAt) {
		return nil, errs.New(errs.Unauthenticated, "The Desktop App session has expired.")
	}
	// The session is the order's: it ends with it (transition also sets its expiry), and
	// a token that leaks afterwards opens nothing.
	if IsFinal(o.State) {
		return nil, errs.New(errs.Unauthenticated, "The Desktop App session ended with its order.")
	}
	return &viewer.Viewer{Kind: viewer.KindBridge, UserID: o.UserID, OrderID: o.ID, Name: "bridge:" + o.ID, Record: o}, nil
}

// Columns withOwner selects besides the order's.
const (
	ownerState       = "owner_state"
	ownerUsername    = "owner_username"
	ownerDisplayName = "owner_display_name"
)

// withOwner has an order query also select what a claim needs of the order's owner: the
// state (only an active person may go on) and the names the Desktop App shows.
func withOwner(sel *sql.Selector) {
	t := sql.Table(user.Table)
	sel.Join(t).On(sel.C(order.FieldUserID), t.C(user.FieldID)).
		AppendSelect(sql.As(t.C(user.FieldState), ownerState), sql.As(t.C(user.FieldUsername), ownerUsername),
			sql.As(t.C(user.FieldDisplayName), ownerDisplayName))
}

// orderOwner is the order's owner as withOwner read it (state and names only), or nil.
func orderOwner(o *ent.Order) *ent.User {
	var v [3]string
	for i, c := range []string{ownerState, ownerUsername, ownerDisplayName} {
		raw, err := o.Value(c)
		s, ok := raw.(string)
		if err != nil || !ok {
			return nil
		}
		v[i] = s
	}
	return &ent.User{ID: o.UserID, State: user.State(v[0]), Username: v[1], DisplayName: v[2]}
}

// Columns withCard selects besides the order's.
const (
	bridgeCardID         = "bridge_card_id"
	bridgeCardValidUntil = "bridge_card_valid_until"
)

// withCard has an order query also select the id and validity of the order's card (NULL
// before the claim made it): what the bridge's calls need of it comes with the one read
// that authenticates the bridge (orderCard).
func withCard(sel *sql.Selector) {
	t := sql.Table(card.Table)
	sel.LeftJoin(t).On(sel.C(order.FieldID), t.C(card.FieldOrderID)).
		AppendSelect(sql.As(t.C(card.FieldID), bridgeCardID), sql.As(t.C(card.FieldValidUntil), bridgeCardValidUntil))
}

// orderCard is the order's card as withCard read it (id and validity only), or nil when
// it was not read that way or there is none.
func orderCard(o *ent.Order) *ent.Card {
	id, err1 := o.Value(bridgeCardID)
	until, err2 := o.Value(bridgeCardValidUntil)
	cid, ok1 := id.(string)
	t, ok2 := until.(time.Time)
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return nil
	}
	return &ent.Card{ID: cid, ValidUntil: t, OrderID: &o.ID}
}

// ReportCardCreation records that the bridge has the PIN and is creating the card.
func (e *Engine) ReportCardCreation(ctx context.Context, orderID, note string) (*ent.Order, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if note == "" {
		note = "creating card"
	}
	return e.transition(ctx, o, move{to: order.StateCREATING_CARD, action: "order.creating_card", note: truncate(note, 200)})
}

// ConfirmCardReady records that the certificates are on the card.
func (e *Engine) ConfirmCardReady(ctx context.Context, orderID, serial string, device *record.Device) (*ent.Order, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	d := e.procs.of(o)
	if o.State != order.StateISSUING_CERTIFICATES || d == nil {
		return nil, illegal(o.State, order.StateCARD_READY)
	}
	// A new card waits in CARD_READY for the person's Next; a card process that issues
	// completes here: the certificates are on the card the person already uses.
	to := d.Forward[o.State]
	n := len(o.Options.Certificates)
	cardCol, cardOf := issuingCardColumn(o, d)
	m := move{
		to: to, action: "order.card_ready", note: "card " + serial + " ready",
		// One condition checks both that serial is this order's card and that its
		// certificates are all there; only a refusal looks closer, to say which.
		requires: []condition{{
			holds: sql.P(func(b *sql.Builder) {
				b.WriteString(`(SELECT COUNT(*) FROM "certificates" WHERE "certificates"."order_id" = `).Arg(o.ID).
					WriteString(` AND "certificates"."state" = `).Arg(certificate.StateVALID).
					WriteString(` AND "certificates"."card_id" IN (SELECT "cards"."id" FROM "cards" WHERE "cards"."serial" = `).Arg(serial).
					WriteString(` AND "cards"."` + cardCol + `" = `).Arg(cardOf).WriteString(")) = ").Arg(n)
			}),
			why: func(ctx context.Context) error { return e.notReady(ctx, o, serial, cardCol, cardOf) },
		}},
	}
	if device != nil {
		m.writes = []write{updateRows(card.Table, sql.EQ(cardCol, cardOf),
			card.FieldDevice, *device, card.FieldUpdatedAt, card.UpdateDefaultUpdatedAt())}
	}
	var superseded []string
	if d.Issues != nil && d.Issues.Renew {
		// Only now, with the new certificates on the card, do the old ones go.
		m.then = func(ctx context.Context, tx *ent.Tx, u *ent.Order) error {
			c, err := tx.Card.Get(ctx, cardOf)
			if err != nil {
				return fmt.Errorf("load card: %w", err)
			}
			superseded, err = e.supersede(ctx, tx, u, c)
			return err
		}
	}
	updated, err := e.transition(ctx, o, m)
	if err != nil {
		return nil, err
	}
	// The sweep repeats this for a card whose change it finds the CA missed.
	e.revokeAtCA(viewer.AsServer(ctx), cardOf, superseded, revocation.Superseded)
	return updated, nil
}

// issuingCardColumn names the card an order issues to as a column and its value: the card
// a process acts on, or for one that makes a card (a replacement too) the card it made.
func issuingCardColumn(o *ent.Order, d *Definition) (col, value string) {
	if o.SubjectCardID != nil && !d.NewCard {
		return card.FieldID, *o.SubjectCardID
	}
	return card.FieldOrderID, o.ID
}

// notReady says why the card serial of order o, whose card is the one with cardCol =
// cardOf, is not ready.
func (e *Engine) notReady(ctx context.Context, o *ent.Order, serial, cardCol, cardOf string) error {
	sys := viewer.AsServer(ctx)
	issued, err := e.db.Certificate.Query().
		Where(certificate.OrderID(o.ID), certificate.StateEQ(certificate.StateVALID),
			certificate.HasCardWith(card.Serial(serial))).
		Count(sys)
	if err != nil {
		return fmt.Errorf("count certificates: %w", err)
	}
	ours, err := e.db.Card.Query().
		Where(card.Serial(serial), func(s *sql.Selector) { s.Where(sql.EQ(s.C(cardCol), cardOf)) }).
		Exist(sys)
	if err != nil {
		return fmt.Errorf("find card: %w", err)
	}
	if !ours {
		return errs.New(errs.InvalidInput, "Card serial %q does not belong to this order.", serial)
	}
	return errs.New(errs.IllegalState, "The card has %d of %d certificates; submit the keys first.", issued, len(o.Options.Certificates))
}

// Fail ends the order because the bridge cannot go on.
func (e *Engine) Fail(ctx context.Context, orderID, reason string) (*ent.Order, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	reason = truncate(reason, 500)
	return e.transition(ctx, o, move{
		to: order.StateFAILED, action: "order.fail", note: reason,
		set: func(m *ent.OrderMutation) { m.SetFailureReason(reason) },
	})
}

// bridgeOrder loads the order the bridge session is bound to.
func (e *Engine) bridgeOrder(ctx context.Context, id string) (*ent.Order, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindBridge {
		return nil, errs.New(errs.Unauthenticated, "This needs the Desktop App's session.")
	}
	if v.OrderID != id {
		return nil, errs.New(errs.Forbidden, "This Desktop App session belongs to another order.")
	}
	if o, ok := v.Record.(*ent.Order); ok && o.ID == id {
		return o, nil // read by this request's authentication; transitions check its version
	}
	o, err := e.db.Order.Get(viewer.AsServer(ctx), id)
	if err != nil {
		return nil, errs.Wrap(err, errs.NotFound, "There is no order %s.", id)
	}
	return o, nil
}

func (e *Engine) cardValidUntil(now time.Time, opts *cardspec.Options) time.Time {
	until := now.AddDate(0, 0, opts.Validity.Days())
	if chain := e.ca.Chain(); len(chain) > 0 && chain[0].NotAfter.Before(until) {
		until = chain[0].NotAfter
	}
	return until
}

// serialTaken reports whether err is the refusal of a card serial another card has.
func serialTaken(err error) bool {
	return sqlgraph.IsUniqueConstraintError(err) && strings.Contains(err.Error(), "serial")
}

func tokenMatches(hash []byte, token string) bool {
	return len(hash) > 0 && subtle.ConstantTimeCompare(hash, hashToken(token)) == 1
}

func deviceNote(d *record.Device) string {
	if d == nil || d.Host == "" {
		return ""
	}
	return " on " + truncate(d.Host, 64)
}
