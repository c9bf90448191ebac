package server_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/servertest"
)

const (
	qStartOnCard = `mutation($p: String!, $c: ID!, $r: String) { startProcess(name: $p, card: $c, reason: $r) { id state } }`
	qNextChoices = `mutation($id: ID!, $ch: Map) { nextStep(orderId: $id, choices: $ch) { order { id state } } }`
	qCardByID    = `query($s: String!) { card(serial: $s) { id state certificates { edges { node { serial template state revocationReason } } } } }`
)

type cardView struct {
	Card struct {
		ID, State    string
		Certificates struct {
			Edges []struct {
				Node struct{ Serial, Template, State, RevocationReason string }
			}
		}
	}
}

func readCard(t *testing.T, c *servertest.Client, serial string) cardView {
	t.Helper()
	var out cardView
	c.MustDo(t, qCardByID, map[string]any{"s": serial}, &out)
	return out
}

// runCardProcess starts process on the card as who and takes its one Next step with choices.
func runCardProcess(t *testing.T, who *servertest.Client, process, cardID string, choices map[string]any) error {
	t.Helper()
	var started struct{ StartProcess struct{ ID string } }
	if err := who.Do(context.Background(), qStartOnCard, map[string]any{"p": process, "c": cardID}, &started); err != nil {
		return err
	}
	var out struct {
		NextStep struct{ Order struct{ State string } }
	}
	if err := who.Do(context.Background(), qNextChoices, map[string]any{"id": started.StartProcess.ID, "ch": choices}, &out); err != nil {
		return err
	}
	if out.NextStep.Order.State != "COMPLETED" {
		t.Fatalf("%s ended %s, want COMPLETED", process, out.NextStep.Order.State)
	}
	return nil
}

// runForSomeone is runCardProcess for an operator acting on someone else's card: with a reason.
func runForSomeone(t *testing.T, who *servertest.Client, process, cardID string) error {
	t.Helper()
	var started struct{ StartProcess struct{ ID string } }
	if err := who.Do(context.Background(), qStartOnCard, map[string]any{"p": process, "c": cardID, "r": "asked by phone"}, &started); err != nil {
		return err
	}
	return who.Do(context.Background(), qNextChoices, map[string]any{"id": started.StartProcess.ID}, nil)
}

// withEncryption saves the default script with an encryption certificate and selfUnlock.
func withEncryption(t *testing.T, admin *servertest.Client, selfUnlock bool) {
	t.Helper()
	src := options.DefaultScript
	for _, r := range [][2]string{{"ENCRYPTION: None,", "ENCRYPTION: ECCP256,"}, {"SELF_UNLOCK = False", "SELF_UNLOCK = " + map[bool]string{true: "True", false: "False"}[selfUnlock]}} {
		if !strings.Contains(src, r[0]) {
			t.Fatalf("default script no longer contains %q", r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	admin.MustDo(t, `mutation($s: String!) { updateOptionScript(source: $s) { name } }`, map[string]any{"s": src}, nil)
}

// TestLockAndUnlock: the person locks their card, keeping the encryption certificate; the
// held certificates are certificateHold over OCSP and on the CRL, the portal sees LOCKED,
// the person may not unlock it; an administrator unlocks it and OCSP says good again and
// the CRL no longer lists them.
func TestLockAndUnlock(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	admin := env.SignIn(t, servertest.Admin)
	carol := env.SignIn(t, servertest.Carol)
	withEncryption(t, admin, false)
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	serial := o.claim.Card.Serial
	c := readCard(t, alice, serial)
	if len(c.Card.Certificates.Edges) != 3 {
		t.Fatalf("card has %d certificates, want 3", len(c.Card.Certificates.Edges))
	}

	if err := runCardProcess(t, carol, enroll.ProcessLockCard, c.Card.ID, nil); codeOf(err) != "NOT_FOUND" {
		t.Fatalf("another person locking: %v, want NOT_FOUND", err)
	}
	if err := runCardProcess(t, alice, enroll.ProcessLockCard, c.Card.ID, map[string]any{"shred": true}); codeOf(err) != "INVALID_INPUT" {
		t.Fatalf("an unknown choice: %v, want INVALID_INPUT", err)
	}
	// The refused step left the order running: cancel it.
	var running struct {
		Processes []struct {
			Name         string
			RunningOrder *struct{ ID string }
		}
	}
	alice.MustDo(t, `query($c: ID!) { processes(card: $c) { name runningOrder { id } } }`, map[string]any{"c": c.Card.ID}, &running)
	for _, p := range running.Processes {
		if p.RunningOrder != nil {
			alice.MustDo(t, qCancel, map[string]any{"id": p.RunningOrder.ID}, nil)
		}
	}
	if err := runCardProcess(t, alice, enroll.ProcessLockCard, c.Card.ID, map[string]any{enroll.ChoiceHoldEncryption: false}); err != nil {
		t.Fatal(err)
	}

	held := map[string]bool{}
	c = readCard(t, alice, serial)
	if c.Card.State != "LOCKED" {
		t.Fatalf("card is %s, want LOCKED", c.Card.State)
	}
	crl := fetchServerCRL(t, env)
	for _, e := range c.Card.Certificates.Edges {
		st, _ := env.Server.CA.Status(context.Background(), e.Node.Serial)
		entry := crlEntryOf(crl, e.Node.Serial)
		if e.Node.Template == "ENCRYPTION" {
			if e.Node.State != "VALID" || st != "VALID" || entry != nil {
				t.Errorf("kept encryption certificate: %s, CA %s, CRL %+v; want VALID, unlisted", e.Node.State, st, entry)
			}
			continue
		}
		held[e.Node.Serial] = true
		if e.Node.State != "ON_HOLD" || e.Node.RevocationReason != "certificateHold" || st != "ON_HOLD" {
			t.Errorf("certificate %s: %s (%s), CA %s; want ON_HOLD (certificateHold)", e.Node.Serial, e.Node.State, e.Node.RevocationReason, st)
		}
		if entry == nil || entry.ReasonCode != ocsp.CertificateHold {
			t.Errorf("CRL entry of %s: %+v, want certificateHold", e.Node.Serial, entry)
		}
	}
	for _, crt := range o.certs {
		r := ocspResponse(t, env, crt.Pem)
		if held[crt.Serial] && (r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CertificateHold) {
			t.Errorf("OCSP for held %s: status %d reason %d, want revoked (certificateHold)", crt.Serial, r.Status, r.RevocationReason)
		}
		if !held[crt.Serial] && r.Status != ocsp.Good {
			t.Errorf("OCSP for kept %s: status %d, want good", crt.Serial, r.Status)
		}
	}
	if n, err := env.Server.DB.Client.AuditEvent.Query().Where(auditevent.Action("card.lock"), auditevent.ObjectID(c.Card.ID)).Count(systemCtx()); err != nil || n != 1 {
		t.Errorf("card.lock audit events: %d (%v), want 1", n, err)
	}

	// Portals see only the status, now LOCKED with the held certificates.
	portal := env.Bearer(env.PortalToken(t, "cards:read"))
	var st struct {
		CardStatus struct {
			State        string
			Certificates []struct{ State string }
		}
	}
	portal.MustDo(t, `query($s: String!) { cardStatus(serial: $s) { state certificates { state } } }`, map[string]any{"s": serial}, &st)
	onHold := 0
	for _, x := range st.CardStatus.Certificates {
		if x.State == "ON_HOLD" {
			onHold++
		}
	}
	if st.CardStatus.State != "LOCKED" || onHold != 2 {
		t.Errorf("portal's card status: %+v, want LOCKED with 2 ON_HOLD", st.CardStatus)
	}

	// The default script lets only an administrator unlock.
	if err := runCardProcess(t, alice, enroll.ProcessUnlockCard, c.Card.ID, nil); codeOf(err) != "FORBIDDEN" {
		t.Fatalf("the person unlocking without self_unlock: %v, want FORBIDDEN", err)
	}
	if err := runForSomeone(t, admin, enroll.ProcessUnlockCard, c.Card.ID); err != nil {
		t.Fatal(err)
	}
	c = readCard(t, alice, serial)
	if c.Card.State != "ACTIVE" {
		t.Fatalf("card is %s after unlock, want ACTIVE", c.Card.State)
	}
	crl = fetchServerCRL(t, env)
	for _, e := range c.Card.Certificates.Edges {
		if st, _ := env.Server.CA.Status(context.Background(), e.Node.Serial); e.Node.State != "VALID" || st != "VALID" {
			t.Errorf("certificate %s after unlock: %s, CA %s; want VALID", e.Node.Serial, e.Node.State, st)
		}
		if entry := crlEntryOf(crl, e.Node.Serial); entry != nil {
			t.Errorf("the CRL still lists %s after unlock", e.Node.Serial)
		}
	}
	for _, crt := range o.certs {
		if r := ocspResponse(t, env, crt.Pem); r.Status != ocsp.Good {
			t.Errorf("OCSP for %s after unlock: %d, want good", crt.Serial, r.Status)
		}
	}
}

// TestSelfUnlock: with self_unlock in the option script the person unlocks their own card.
func TestSelfUnlock(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	admin := env.SignIn(t, servertest.Admin)
	withEncryption(t, admin, true)
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	c := readCard(t, alice, o.claim.Card.Serial)
	if err := runCardProcess(t, alice, enroll.ProcessLockCard, c.Card.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, e := range readCard(t, alice, o.claim.Card.Serial).Card.Certificates.Edges {
		if e.Node.State != "ON_HOLD" {
			t.Errorf("%s certificate is %s after a lock with the default choice, want ON_HOLD", e.Node.Template, e.Node.State)
		}
	}
	if err := runCardProcess(t, alice, enroll.ProcessUnlockCard, c.Card.ID, nil); err != nil {
		t.Fatalf("the person unlocking with self_unlock: %v", err)
	}
	if s := readCard(t, alice, o.claim.Card.Serial).Card.State; s != "ACTIVE" {
		t.Fatalf("card is %s, want ACTIVE", s)
	}
}

// TestCardsFollowTheirOwner: a person LOCKED locks their active cards and holds their
// certificates; back to ACTIVE the cards stay locked until an operator unlocks them;
// INACTIVE revokes them (cessationOfOperation).
func TestCardsFollowTheirOwner(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	admin := env.SignIn(t, servertest.Admin)
	var me struct{ Me struct{ ID string } }
	alice.MustDo(t, `{ me { id } }`, nil, &me)
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	serial := o.claim.Card.Serial
	setState := func(state string) {
		admin.MustDo(t, qSetState, map[string]any{"id": me.Me.ID, "state": state}, nil)
	}
	ocspOf := func() []*ocsp.Response {
		var out []*ocsp.Response
		for _, crt := range o.certs {
			out = append(out, ocspResponse(t, env, crt.Pem))
		}
		return out
	}

	setState("LOCKED")
	c := readCard(t, admin, serial)
	if c.Card.State != "LOCKED" {
		t.Fatalf("card of a locked person is %s, want LOCKED", c.Card.State)
	}
	for _, r := range ocspOf() {
		if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CertificateHold {
			t.Errorf("OCSP for %s: %d reason %d, want certificateHold", r.SerialNumber, r.Status, r.RevocationReason)
		}
	}
	if n, _ := env.Server.DB.Client.AuditEvent.Query().Where(auditevent.Action("card.lock"), auditevent.ObjectID(c.Card.ID)).Count(systemCtx()); n != 1 {
		t.Errorf("card.lock audit events: %d, want 1", n)
	}

	setState("ACTIVE")
	if s := readCard(t, admin, serial).Card.State; s != "LOCKED" {
		t.Fatalf("card is %s after the person is ACTIVE again, want still LOCKED", s)
	}
	if err := runForSomeone(t, admin, enroll.ProcessUnlockCard, c.Card.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range ocspOf() {
		if r.Status != ocsp.Good {
			t.Errorf("OCSP for %s after unlock: %d, want good", r.SerialNumber, r.Status)
		}
	}

	setState("INACTIVE")
	c = readCard(t, admin, serial)
	if c.Card.State != "INACTIVE" {
		t.Fatalf("card of a person who left is %s, want INACTIVE", c.Card.State)
	}
	crl := fetchServerCRL(t, env)
	for _, r := range ocspOf() {
		if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CessationOfOperation {
			t.Errorf("OCSP for %s: %d reason %d, want cessationOfOperation", r.SerialNumber, r.Status, r.RevocationReason)
		}
		if e := crlEntryOf(crl, r.SerialNumber.Text(16)); e == nil || e.ReasonCode != ocsp.CessationOfOperation {
			t.Errorf("CRL entry of %s: %+v", r.SerialNumber, e)
		}
	}
}

// TestSweepRepairsALockTheCAMissed: a crash between the lock's commit and the CA leaves the
// CA saying VALID while the identity store says ON_HOLD (made here by releasing the hold at
// the CA behind the engine's back); the sweep holds it again. The same for an unlock the CA
// missed, and for a cascade's revocation.
func TestSweepRepairsALockTheCAMissed(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	admin := env.SignIn(t, servertest.Admin)
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	c := readCard(t, alice, o.claim.Card.Serial)
	ctx := context.Background()
	caSays := func() []string {
		var out []string
		for _, crt := range o.certs {
			st, err := env.Server.CA.Status(ctx, crt.Serial)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(st))
		}
		return out
	}
	sweep := func() {
		if _, err := env.Server.Enroll.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if err := runCardProcess(t, alice, enroll.ProcessLockCard, c.Card.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, crt := range o.certs {
		if err := env.Server.CA.Revoke(ctx, crt.Serial, ocsp.RemoveFromCRL); err != nil {
			t.Fatal(err)
		}
	}
	sweep()
	if got := caSays(); !equal(got, []string{"ON_HOLD", "ON_HOLD"}) {
		t.Fatalf("after the sweep the CA says %v, want ON_HOLD", got)
	}

	if err := runForSomeone(t, admin, enroll.ProcessUnlockCard, c.Card.ID); err != nil {
		t.Fatal(err)
	}
	for _, crt := range o.certs {
		if err := env.Server.CA.Revoke(ctx, crt.Serial, ocsp.CertificateHold); err != nil {
			t.Fatal(err)
		}
	}
	sweep()
	if got := caSays(); !equal(got, []string{"VALID", "VALID"}) {
		t.Fatalf("after the sweep the CA says %v, want VALID", got)
	}
}
