package enroll

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/revocation"
)

// newCardRun is an order of a process that makes a new card, taken as far as the test
// needs, with what the Desktop App holds.
type newCardRun struct {
	o       *ent.Order
	session string
	key     *ecdsa.PrivateKey // the authentication key "on the card"
}

// startNewCard starts process (on card cardID, for replace) as u and hands it off with
// choices, returning the order waiting for the Desktop App and the hand-off token.
func startNewCard(t *testing.T, env *testEnv, u *ent.User, process, cardID string, choices map[string]any) (*ent.Order, string) {
	t.Helper()
	ctx := env.as(u, false)
	o, err := env.e.Start(ctx, process, cardID)
	if err != nil {
		t.Fatalf("start %s: %v", process, err)
	}
	o, h, err := env.e.NextWith(ctx, o.ID, choices)
	if err != nil {
		t.Fatalf("hand off %s: %v", process, err)
	}
	token, name := handoffToken(t, h.URL)
	if name != process {
		t.Fatalf("hand-off link names %q, want %q", name, process)
	}
	return o, token
}

// toReady takes a handed-off order through the Desktop App's calls to CARD_READY.
func toReady(t *testing.T, env *testEnv, o *ent.Order, token string) newCardRun {
	t.Helper()
	claim, err := env.e.Claim(context.Background(), o.ID, token, device)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	// Each call authenticates afresh, as each request of the Desktop App does.
	b := func() context.Context { return env.bridge(t, claim.SessionToken) }
	if _, err := env.e.ReportCardCreation(b(), o.ID, ""); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrFor(t, key)}))
	if _, err := env.e.SubmitKeys(b(), o.ID, []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: csr}}); err != nil {
		t.Fatalf("submit keys: %v", err)
	}
	if o, err = env.e.ConfirmCardReady(b(), o.ID, claim.Card.Serial, device); err != nil {
		t.Fatalf("confirm card ready: %v", err)
	}
	return newCardRun{o: o, session: claim.SessionToken, key: key}
}

// issuedCard gives u an ACTIVE card made through get-virtual-smart-card, its certificate
// valid at the CA, and the key of its authentication certificate.
func issuedCard(t *testing.T, env *testEnv, u *ent.User) (*ent.Card, *ecdsa.PrivateKey) {
	t.Helper()
	o, token := startNewCard(t, env, u, ProcessGetVirtualSmartCard, "", nil)
	run := toReady(t, env, o, token)
	if _, _, err := env.e.Next(env.as(u, false), o.ID); err != nil {
		t.Fatalf("activate: %v", err)
	}
	return env.db.Card.Query().Where(card.OrderID(o.ID)).OnlyX(env.sys), run.key
}

// certsOf are the identity store's certificates of card id.
func (env *testEnv) certsOf(id string) []*ent.Certificate {
	return env.db.Certificate.Query().Where(certificate.CardID(id)).AllX(env.sys)
}

// wantCerts checks that every certificate of card id is in state st with reason, in the
// identity store, and at the CA with status cas and, when revoked, the reason's code.
func wantCerts(t *testing.T, env *testEnv, id string, st certificate.State, reason revocation.Reason, cas ca.Status) {
	t.Helper()
	certs := env.certsOf(id)
	if len(certs) == 0 {
		t.Fatalf("card %s has no certificates", id)
	}
	for _, c := range certs {
		got := revocation.Reason("")
		if c.RevocationReason != nil {
			got = *c.RevocationReason
		}
		if c.State != st || got != reason {
			t.Errorf("certificate %s is %s (%q) in the identity store, want %s (%q)", c.Serial, c.State, got, st, reason)
		}
		status, code := env.ca.record(c.Serial)
		if status != cas || (cas == ca.StatusRevoked && code != reason.Code()) {
			t.Errorf("certificate %s is %v (reason %d) at the CA, want %v (reason %d)", c.Serial, status, code, cas, reason.Code())
		}
	}
}

func (env *testEnv) audited(t *testing.T, action, objectID string) {
	t.Helper()
	if n := env.db.AuditEvent.Query().Where(auditevent.Action(action), auditevent.ObjectID(objectID)).CountX(env.sys); n != 1 {
		t.Errorf("%d audit events %s of %s, want 1", n, action, objectID)
	}
}

func (env *testEnv) cardState(id string) card.State { return env.db.Card.GetX(env.sys, id).State }

// TestDeleteCard: the person deletes their card, ACTIVE or LOCKED: it is INACTIVE, its
// certificates revoked as cessationOfOperation in the identity store and at the CA, and
// audited; someone else's card is not theirs to delete; an operator may.
func TestDeleteCard(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd, _ := issuedCard(t, env, env.ann)

	carl := env.db.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject("carl").
		SetUsername("carl").SetState(user.StateACTIVE).SaveX(env.sys)
	_, err := env.e.Start(env.as(carl, false), ProcessDeleteCard, crd.ID)
	wantCode(t, err, errs.NotFound)

	o, err := env.e.Start(ann, ProcessDeleteCard, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	done, h, err := env.e.Next(ann, o.ID)
	if err != nil || h != nil || done.State != order.StateCOMPLETED {
		t.Fatalf("Next = %v, %v, %v", done, h, err)
	}
	if st := env.cardState(crd.ID); st != card.StateINACTIVE {
		t.Fatalf("deleted card is %s", st)
	}
	wantCerts(t, env, crd.ID, certificate.StateREVOKED, revocation.CessationOfOperation, ca.StatusRevoked)
	env.audited(t, "card.delete", crd.ID)
	_, err = env.e.Start(ann, ProcessDeleteCard, crd.ID)
	wantCode(t, err, errs.IllegalState)

	// A locked card, deleted by an operator: its held certificates are revoked for good.
	locked, _ := issuedCard(t, env, env.ann)
	lo, err := env.e.Start(ann, ProcessLockCard, locked.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.e.Next(ann, lo.ID); err != nil {
		t.Fatal(err)
	}
	wantCerts(t, env, locked.ID, certificate.StateON_HOLD, revocation.CertificateHold, ca.StatusOnHold)
	admin := audit.WithReason(env.as(env.admin, true), "left the company")
	do, err := env.e.Start(admin, ProcessDeleteCard, locked.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.e.Next(admin, do.ID); err != nil {
		t.Fatal(err)
	}
	if st := env.cardState(locked.ID); st != card.StateINACTIVE {
		t.Fatalf("deleted locked card is %s", st)
	}
	wantCerts(t, env, locked.ID, certificate.StateREVOKED, revocation.CessationOfOperation, ca.StatusRevoked)
}

// TestDeleteWhileTheCAIsDown: the identity store commits the delete; the CA learns of it
// from the sweep once it answers again.
func TestDeleteWhileTheCAIsDown(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd, _ := issuedCard(t, env, env.ann)
	env.ca.failRevoke = errCADown
	o, err := env.e.Start(ann, ProcessDeleteCard, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.e.Next(ann, o.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range env.certsOf(crd.ID) {
		if st, _ := env.ca.record(c.Serial); st != ca.StatusValid {
			t.Fatalf("the CA, down, has %v", st)
		}
	}
	env.ca.failRevoke = nil
	if _, err := env.e.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCerts(t, env, crd.ID, certificate.StateREVOKED, revocation.CessationOfOperation, ca.StatusRevoked)
}

// TestPurgeCard: only an operator removes a card's record; its certificates are revoked
// at the CA first, the orders that made and acted on it stay without it, the audit log
// keeps the event; a CA that does not answer refuses the purge.
func TestPurgeCard(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd, _ := issuedCard(t, env, env.ann)
	lo, err := env.e.Start(ann, ProcessLockCard, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.e.Next(ann, lo.ID); err != nil {
		t.Fatal(err)
	}
	serials := []string{}
	for _, c := range env.certsOf(crd.ID) {
		serials = append(serials, c.Serial)
	}

	wantCode(t, env.e.PurgeCard(ann, crd.Serial, "no longer needed"), errs.Forbidden)
	admin := env.as(env.admin, true)
	env.ca.failRevoke = errCADown
	wantCode(t, env.e.PurgeCard(admin, crd.Serial, "left the company"), errs.Unavailable)
	if n := env.db.Card.Query().Where(card.ID(crd.ID)).CountX(env.sys); n != 1 {
		t.Fatal("a purge the CA could not follow removed the card")
	}
	env.ca.failRevoke = nil

	if err := env.e.PurgeCard(admin, crd.Serial, "left the company"); err != nil {
		t.Fatal(err)
	}
	if n := env.db.Card.Query().Where(card.ID(crd.ID)).CountX(env.sys); n != 0 {
		t.Fatal("the card is still there")
	}
	if n := env.db.Certificate.Query().Where(certificate.SerialIn(serials...)).CountX(env.sys); n != 0 {
		t.Fatalf("%d certificate records left", n)
	}
	for _, s := range serials {
		if st, code := env.ca.record(s); st != ca.StatusRevoked || code != ocsp.CessationOfOperation {
			t.Errorf("certificate %s is %v (%d) at the CA", s, st, code)
		}
	}
	if got := env.order(t, lo.ID); got.SubjectCardID != nil {
		t.Errorf("the lock order still names card %s", *got.SubjectCardID)
	}
	env.audited(t, "card.purge", crd.ID)
	ev := env.db.AuditEvent.Query().Where(auditevent.Action("card.purge"), auditevent.ObjectID(crd.ID)).OnlyX(env.sys)
	if ev.Details["reason"] != "left the company" {
		t.Errorf("the purge's audit event says %v, not the reason", ev.Details)
	}
	wantCode(t, env.e.PurgeCard(admin, crd.Serial, "left the company"), errs.NotFound)
}

// TestPurgeCardWithoutReason: an administrator removing someone's card must say why, as
// for every other action on someone else's things; refused, the card and its
// certificates stay as they were and nothing is revoked at the CA.
func TestPurgeCardWithoutReason(t *testing.T) {
	env := newEnv(t, nil)
	crd, _ := issuedCard(t, env, env.ann)
	admin := env.as(env.admin, true)
	for _, reason := range []string{"", "   "} {
		wantCode(t, env.e.PurgeCard(admin, crd.Serial, reason), errs.ReasonRequired)
	}
	if got := env.cardState(crd.ID); got != card.StateACTIVE {
		t.Fatalf("the card is %s after a refused purge", got)
	}
	for _, c := range env.certsOf(crd.ID) {
		if st, _ := env.ca.record(c.Serial); st != ca.StatusValid || c.State != certificate.StateVALID {
			t.Errorf("certificate %s is %s in the store, %v at the CA, after a refused purge", c.Serial, c.State, st)
		}
	}
	if n := env.db.AuditEvent.Query().Where(auditevent.Action("card.purge")).CountX(env.sys); n != 0 {
		t.Errorf("%d purge events for a refused purge", n)
	}
}

// TestReplaceBroken: a card replaced because the computer broke works until the new card is
// active; then it is REVOKED, its certificates superseded, and it names its successor.
func TestReplaceBroken(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	old, _ := issuedCard(t, env, env.ann)
	o, token := startNewCard(t, env, env.ann, ProcessReplaceCard, old.ID, map[string]any{ChoiceLostOrStolen: false})
	if o.SubjectCardID == nil || *o.SubjectCardID != old.ID {
		t.Fatalf("the replace order acts on %v", o.SubjectCardID)
	}
	run := toReady(t, env, o, token)
	if st := env.cardState(old.ID); st != card.StateACTIVE {
		t.Fatalf("old card is %s before the new one is active", st)
	}
	wantCerts(t, env, old.ID, certificate.StateVALID, "", ca.StatusValid)

	done, _, err := env.e.Next(ann, run.o.ID)
	if err != nil || done.State != order.StateCOMPLETED {
		t.Fatalf("Next = %v, %v", done, err)
	}
	nc := env.db.Card.Query().Where(card.OrderID(o.ID)).OnlyX(env.sys)
	if nc.State != card.StateACTIVE || nc.ID == old.ID {
		t.Fatalf("new card %s is %s", nc.Serial, nc.State)
	}
	oc := env.db.Card.GetX(env.sys, old.ID)
	if oc.State != card.StateREVOKED || oc.ReplacedByID == nil || *oc.ReplacedByID != nc.ID {
		t.Fatalf("old card is %s, replaced by %v", oc.State, oc.ReplacedByID)
	}
	wantCerts(t, env, old.ID, certificate.StateREVOKED, revocation.Superseded, ca.StatusRevoked)
	wantCerts(t, env, nc.ID, certificate.StateVALID, "", ca.StatusValid)
	env.audited(t, "card.replace.supersede", old.ID)
	// Each old certificate names the new card's of its slot; the state change has its time.
	successors := map[string]string{}
	for _, c := range env.db.Certificate.Query().Where(certificate.CardID(nc.ID)).AllX(env.sys) {
		successors[c.Slot] = c.ID
	}
	for _, c := range env.db.Certificate.Query().Where(certificate.CardID(old.ID)).AllX(env.sys) {
		if c.SupersededByID == nil || *c.SupersededByID != successors[c.Slot] {
			t.Errorf("old %s certificate superseded by %v, want %s", c.Slot, c.SupersededByID, successors[c.Slot])
		}
	}
	if oc.StateChangedAt == nil || nc.StateChangedAt == nil {
		t.Errorf("state change times: old %v, new %v", oc.StateChangedAt, nc.StateChangedAt)
	}
}

// TestReplaceLost: a lost or stolen card is revoked as keyCompromise at the hand-off; if
// the replacement is then cancelled, the new card is undone and the old one stays revoked.
func TestReplaceLost(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	old, _ := issuedCard(t, env, env.ann)
	o, token := startNewCard(t, env, env.ann, ProcessReplaceCard, old.ID, map[string]any{ChoiceLostOrStolen: true})
	if st := env.cardState(old.ID); st != card.StateREVOKED {
		t.Fatalf("lost card is %s after the hand-off", st)
	}
	wantCerts(t, env, old.ID, certificate.StateREVOKED, revocation.KeyCompromise, ca.StatusRevoked)
	env.audited(t, "card.replace.revoke", old.ID)

	run := toReady(t, env, o, token)
	if _, err := env.e.Cancel(ann, run.o.ID, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	if n := env.db.Card.Query().Where(card.OrderID(o.ID)).CountX(env.sys); n != 0 {
		t.Fatal("the cancelled replacement left its new card")
	}
	if st := env.cardState(old.ID); st != card.StateREVOKED {
		t.Fatalf("lost card is %s after the cancel", st)
	}
	wantCerts(t, env, old.ID, certificate.StateREVOKED, revocation.KeyCompromise, ca.StatusRevoked)
	// Revoked: no longer a card to replace, lock or delete.
	_, err := env.e.Start(ann, ProcessReplaceCard, old.ID)
	wantCode(t, err, errs.IllegalState)
}

// TestReplaceEndsEarly: a replacement of a broken card that is cancelled, fails or expires
// in the middle leaves the old card as it was, and takes back the new card and what was
// issued for it.
func TestReplaceEndsEarly(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, env *testEnv, run newCardRun)
		want order.State
	}{
		{"cancel", func(t *testing.T, env *testEnv, run newCardRun) {
			if _, err := env.e.Cancel(env.as(env.ann, false), run.o.ID, ""); err != nil {
				t.Fatal(err)
			}
		}, order.StateCANCELLED},
		{"failure", func(t *testing.T, env *testEnv, run newCardRun) {
			if _, err := env.e.Fail(env.bridge(t, run.session), run.o.ID, "the card could not store its certificate"); err != nil {
				t.Fatal(err)
			}
		}, order.StateFAILED},
		{"expiry", func(t *testing.T, env *testEnv, run newCardRun) {
			env.clock.Add(env.idle + 1e9)
			if res, err := env.e.Sweep(context.Background()); err != nil || res.Expired != 1 {
				t.Fatalf("sweep = %+v, %v", res, err)
			}
		}, order.StateEXPIRED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil)
			old, _ := issuedCard(t, env, env.ann)
			o, token := startNewCard(t, env, env.ann, ProcessReplaceCard, old.ID, nil)
			run := toReady(t, env, o, token)
			newID := env.db.Card.Query().Where(card.OrderID(o.ID)).OnlyIDX(env.sys)
			newCerts := env.certsOf(newID)
			tc.end(t, env, run)
			if got := env.order(t, o.ID); got.State != tc.want {
				t.Fatalf("order is %s, want %s", got.State, tc.want)
			}
			if n := env.db.Card.Query().Where(card.ID(newID)).CountX(env.sys); n != 0 {
				t.Error("the new card is left")
			}
			for _, c := range newCerts {
				if st, code := env.ca.record(c.Serial); st != ca.StatusRevoked || code != ocsp.CessationOfOperation {
					t.Errorf("the new card's certificate is %v (%d) at the CA", st, code)
				}
			}
			oc := env.db.Card.GetX(env.sys, old.ID)
			if oc.State != card.StateACTIVE || oc.ReplacedByID != nil {
				t.Fatalf("old card is %s, replaced by %v", oc.State, oc.ReplacedByID)
			}
			wantCerts(t, env, old.ID, certificate.StateVALID, "", ca.StatusValid)
		})
	}
}

// TestReplaceCrashBeforeTheCA: the new card became active while the CA was down (as after
// a crash between commit and the CA): the sweep supersedes the old card's certificates at
// the CA.
func TestReplaceCrashBeforeTheCA(t *testing.T) {
	env := newEnv(t, nil)
	old, _ := issuedCard(t, env, env.ann)
	o, token := startNewCard(t, env, env.ann, ProcessReplaceCard, old.ID, nil)
	run := toReady(t, env, o, token)
	env.ca.failRevoke = errCADown
	if _, _, err := env.e.Next(env.as(env.ann, false), run.o.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range env.certsOf(old.ID) {
		if st, _ := env.ca.record(c.Serial); st != ca.StatusValid {
			t.Fatalf("the CA, down, has %v", st)
		}
	}
	env.ca.failRevoke = nil
	if _, err := env.e.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCerts(t, env, old.ID, certificate.StateREVOKED, revocation.Superseded, ca.StatusRevoked)
}

// TestReplaceOfferedWhenThePUKIsBlocked: reset-pin is refused on a card whose PUK the
// Desktop App reported blocked, with the reason; replace is offered on it, and on a
// locked card; on nobody else's.
func TestReplaceOfferedWhenThePUKIsBlocked(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd := env.activeCard(t, env.ann, "11112222")
	env.db.Card.UpdateOneID(crd.ID).SetPinState(&record.PINState{Blocked: true, PUKBlocked: true}).ExecX(env.sys)
	procs, err := env.e.Processes(ann, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	offered := map[string]*Process{}
	for _, p := range procs {
		offered[p.Name] = p
	}
	if p := offered[ProcessResetPIN]; p == nil || p.Available || p.UnavailableReason == nil || *p.UnavailableReason != UnavailablePUKBlocked {
		t.Errorf("reset-pin on a PUK-blocked card: %+v", p)
	}
	for _, name := range []string{ProcessReplaceCard, ProcessDeleteCard} {
		if p := offered[name]; p == nil || !p.Available {
			t.Errorf("%s on a PUK-blocked card: %+v", name, p)
		}
	}
	_, err = env.e.Start(ann, ProcessResetPIN, crd.ID)
	wantCode(t, err, errs.IllegalState)
	// An operator does not replace a person's card: the new card is made on their computer.
	_, err = env.e.Start(env.as(env.admin, true), ProcessReplaceCard, crd.ID)
	wantCode(t, err, errs.Forbidden)
}

// TestDeleteWithCard: the card's signature of the server's challenge deletes it for its
// owner, as the portal's Delete does; another key's, another card's challenge or an old
// challenge does not.
func TestDeleteWithCard(t *testing.T) {
	env := newEnv(t, nil)
	crd, key := issuedCard(t, env, env.ann)
	other, otherKey := issuedCard(t, env, env.ann)
	sign := func(k crypto.Signer, challenge string) string {
		d := sha256.Sum256([]byte(challenge))
		sig, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}
	ctx := context.Background()
	ch := env.e.DeleteChallenge(crd.Serial)
	_, err := env.e.DeleteWithCard(ctx, crd.Serial, ch, sign(otherKey, ch))
	wantCode(t, err, errs.Forbidden)
	otherCh := env.e.DeleteChallenge(other.Serial)
	_, err = env.e.DeleteWithCard(ctx, crd.Serial, otherCh, sign(key, otherCh))
	wantCode(t, err, errs.Forbidden)
	env.clock.Add(challengeTTL)
	_, err = env.e.DeleteWithCard(ctx, crd.Serial, ch, sign(key, ch))
	wantCode(t, err, errs.TokenExpired)
	if st := env.cardState(crd.ID); st != card.StateACTIVE {
		t.Fatalf("a refused delete left the card %s", st)
	}

	ch = env.e.DeleteChallenge(crd.Serial)
	c, err := env.e.DeleteWithCard(ctx, crd.Serial, ch, sign(key, ch))
	if err != nil || c.State != card.StateINACTIVE {
		t.Fatalf("DeleteWithCard = %v, %v", c, err)
	}
	wantCerts(t, env, crd.ID, certificate.StateREVOKED, revocation.CessationOfOperation, ca.StatusRevoked)
	ch = env.e.DeleteChallenge(crd.Serial)
	_, err = env.e.DeleteWithCard(ctx, crd.Serial, ch, sign(key, ch))
	wantCode(t, err, errs.IllegalState) // the Desktop App then removes it all the same
	o := env.db.Order.Query().Where(order.Process(ProcessDeleteCard), order.SubjectCardID(crd.ID)).OnlyX(env.sys)
	if o.State != order.StateCOMPLETED || o.UserID != env.ann.ID {
		t.Fatalf("delete order is %s for %s", o.State, o.UserID)
	}
}

// TestPurgeCardWhileReplaced: purging a card a replacement is running on cancels the
// replacement first, which takes back the new card and what was issued for it.
func TestPurgeCardWhileReplaced(t *testing.T) {
	env := newEnv(t, nil)
	old, _ := issuedCard(t, env, env.ann)
	o, token := startNewCard(t, env, env.ann, ProcessReplaceCard, old.ID, nil)
	toReady(t, env, o, token)
	newID := env.db.Card.Query().Where(card.OrderID(o.ID)).OnlyIDX(env.sys)
	if err := env.e.PurgeCard(env.as(env.admin, true), old.Serial, "computer stolen"); err != nil {
		t.Fatal(err)
	}
	got := env.order(t, o.ID)
	if got.State != order.StateCANCELLED || got.SubjectCardID != nil {
		t.Fatalf("replace order is %s on %v", got.State, got.SubjectCardID)
	}
	// The cancel's audit event carries the administrator's reason, not the server's English
	// words for the cause (those stay in the order's step history).
	ev := env.db.AuditEvent.Query().Where(auditevent.Action("order.cancel"), auditevent.ObjectID(o.ID)).OnlyX(env.sys)
	if ev.Details["reason"] != "computer stolen" {
		t.Errorf("the cancel's audit event says %v", ev.Details)
	}
	if n := env.db.Card.Query().Where(card.IDIn(old.ID, newID)).CountX(env.sys); n != 0 {
		t.Fatalf("%d of the two cards left", n)
	}
	if n := env.db.Certificate.Query().Where(certificate.StateEQ(certificate.StateVALID)).CountX(env.sys); n != 0 {
		t.Fatalf("%d certificates still valid", n)
	}
}

// TestReplaceLostWhileTheCAIsDown: the lost card is revoked in the identity store at the
// hand-off even when the CA does not answer (as after a crash before it was told); the
// sweep then revokes it at the CA as keyCompromise.
func TestReplaceLostWhileTheCAIsDown(t *testing.T) {
	env := newEnv(t, nil)
	old, _ := issuedCard(t, env, env.ann)
	env.ca.failRevoke = errCADown
	startNewCard(t, env, env.ann, ProcessReplaceCard, old.ID, map[string]any{ChoiceLostOrStolen: true})
	for _, c := range env.certsOf(old.ID) {
		if st, _ := env.ca.record(c.Serial); st != ca.StatusValid || c.State != certificate.StateREVOKED {
			t.Fatalf("with the CA down: %s in the store, %v at the CA", c.State, st)
		}
	}
	env.ca.failRevoke = nil
	if _, err := env.e.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCerts(t, env, old.ID, certificate.StateREVOKED, revocation.KeyCompromise, ca.StatusRevoked)
}
