package enroll

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/revocation"
)

// switchScript is an option script an administrator edits during a test: authentication
// and signature certificates, and encryption when it is turned on.
type switchScript struct {
	mu         sync.Mutex
	encryption bool
}

func (s *switchScript) set(encryption bool) { s.mu.Lock(); s.encryption = encryption; s.mu.Unlock() }

func (s *switchScript) Evaluate(_ context.Context, u *ent.User) (*cardspec.Options, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	certs := []cardspec.CertificateSpec{
		{Template: cardspec.Authentication, Slot: "9A", Algorithm: cardspec.ECCP256},
		{Template: cardspec.Signature, Slot: "9C", Algorithm: cardspec.ECCP256},
	}
	if s.encryption {
		certs = append(certs, cardspec.CertificateSpec{Template: cardspec.Encryption, Slot: "9D", Algorithm: cardspec.ECCP256})
	}
	return &cardspec.Options{
		PIN:          cardspec.PINPolicy{MinLength: 6, MaxLength: 8},
		Certificates: certs,
		Validity:     cardspec.Validity{Years: 1},
		Properties:   cardspec.Properties{CommonName: u.Username, UserID: u.Username},
	}, "1", nil
}

// keysFor are CSRs for every certificate of a claim, as the Desktop App makes them.
func keysFor(t *testing.T, specs []cardspec.CertificateSpec) []KeySubmission {
	t.Helper()
	out := make([]KeySubmission, len(specs))
	for i, s := range specs {
		out[i] = KeySubmission{Slot: s.Slot, Template: s.Template, CSR: p256CSR(t)}
	}
	return out
}

// handOffAndClaim takes a started order to the Desktop App: Next, then the claim.
func (env *testEnv) handOffAndClaim(t *testing.T, ctx context.Context, o *ent.Order) *Claim {
	t.Helper()
	_, h, err := env.e.Next(ctx, o.ID)
	if err != nil || h == nil {
		t.Fatalf("Next = %v, %v", h, err)
	}
	token, process := handoffToken(t, h.URL)
	if process != o.Process {
		t.Fatalf("link names %q, want %q", process, o.Process)
	}
	claim, err := env.e.Claim(context.Background(), o.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	return claim
}

// newCardOf makes u a card through get-virtual-smart-card under the script in force.
func (env *testEnv) newCardOf(t *testing.T, u *ent.User) *ent.Card {
	t.Helper()
	ctx := env.as(u, false)
	o, err := env.e.Start(ctx, ProcessGetVirtualSmartCard, "")
	if err != nil {
		t.Fatal(err)
	}
	claim := env.handOffAndClaim(t, ctx, o)
	b := env.bridge(t, claim.SessionToken)
	if _, err := env.e.ReportCardCreation(b, o.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.e.ConfirmCardReady(env.bridge(t, claim.SessionToken), o.ID, claim.Card.Serial, device); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.e.Next(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	return env.db.Card.Query().Where(card.Serial(claim.Card.Serial)).OnlyX(env.sys)
}

// certsBySlot are the card's certificates that count (VALID or ON_HOLD), by slot.
func (env *testEnv) certsBySlot(t *testing.T, c *ent.Card) map[string]*ent.Certificate {
	t.Helper()
	out := map[string]*ent.Certificate{}
	for _, crt := range env.db.Certificate.Query().Where(certificate.CardID(c.ID),
		certificate.StateIn(certificate.StateVALID, certificate.StateON_HOLD)).AllX(env.sys) {
		if out[crt.Slot] != nil {
			t.Fatalf("card %s has two certificates in slot %s", c.Serial, crt.Slot)
		}
		out[crt.Slot] = crt
	}
	return out
}

// offered is process name on card c as the caller in ctx sees it.
func (env *testEnv) offered(t *testing.T, ctx context.Context, c *ent.Card, name string) *Process {
	t.Helper()
	ps, err := env.e.Processes(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("process %s is not offered on card %s", name, c.Serial)
	return nil
}

// TestRenewSupersedesOnlyOnceTheCardIsReady: a renewal issues new authentication and
// signature certificates to the same card and keeps its encryption certificate; the old
// ones stay valid until the Desktop App confirms the new ones are on the card, and are then
// revoked as superseded, here and at the CA; the card's validity moves on.
func TestRenewSupersedesOnlyOnceTheCardIsReady(t *testing.T) {
	env := newEnv(t, nil)
	script := &switchScript{encryption: true}
	env.e.opts = script
	ann := env.as(env.ann, false)
	crd := env.newCardOf(t, env.ann)
	old := env.certsBySlot(t, crd)
	if len(old) != 3 {
		t.Fatalf("new card has %d certificates, want 9A, 9C and 9D", len(old))
	}

	// Ten months on, the card is renewed.
	env.clock.Add(300 * 24 * time.Hour)
	if p := env.offered(t, ann, crd, ProcessRenewCard); !p.Available {
		t.Fatalf("renew is unavailable on an active card: %s", reasonOf(p))
	}
	o, err := env.e.Start(ann, ProcessRenewCard, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	started := env.clock.Now()
	claim := env.handOffAndClaim(t, ann, o)
	if claim.Card.Serial != crd.Serial || claim.Card.ManagementKey == "" || claim.Card.PUK != "" {
		t.Fatalf("claim gives card %s, management key %v, PUK %v; want the card, its key, no PUK",
			claim.Card.Serial, claim.Card.ManagementKey != "", claim.Card.PUK != "")
	}
	if got := slotsOf(claim.Card.Certificates); !slices.Equal(got, []string{"9A", "9C"}) {
		t.Fatalf("renewal issues %v, want 9A and 9C (9D is kept)", got)
	}
	wantUntil := started.AddDate(0, 0, cardspec.Validity{Years: 1}.Days())
	if !claim.Card.ValidUntil.Equal(wantUntil) {
		t.Fatalf("claim's validity %v, want %v", claim.Card.ValidUntil, wantUntil)
	}

	// A key for the encryption slot is refused: the renewal keeps it.
	_, err = env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID,
		keysFor(t, append(slices.Clone(claim.Card.Certificates), cardspec.CertificateSpec{Template: cardspec.Encryption, Slot: "9D", Algorithm: cardspec.ECCP256})))
	wantCode(t, err, errs.InvalidInput)

	issued, err := env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates))
	if err != nil || len(issued) != 2 {
		t.Fatalf("SubmitKeys = %d, %v", len(issued), err)
	}
	for _, c := range issued {
		if c.CardID == nil || *c.CardID != crd.ID || !c.NotAfter.Equal(wantUntil) {
			t.Fatalf("new certificate %s on card %v until %v; want card %s until %v", c.Slot, c.CardID, c.NotAfter, crd.ID, wantUntil)
		}
	}
	// Issued but not on the card yet: the old certificates still work.
	for slot, c := range old {
		if got := env.db.Certificate.GetX(env.sys, c.ID); got.State != certificate.StateVALID {
			t.Fatalf("old %s certificate is %s before the card has the new one", slot, got.State)
		}
	}
	if got := env.db.Card.GetX(env.sys, crd.ID); !got.ValidUntil.Equal(crd.ValidUntil) {
		t.Fatalf("the card's validity moved before the renewal completed")
	}
	_, _, err = env.e.Next(ann, o.ID)
	wantCode(t, err, errs.IllegalState) // the Desktop App completes it, not the person

	done, err := env.e.ConfirmCardReady(env.bridge(t, claim.SessionToken), o.ID, crd.Serial, device)
	if err != nil || done.State != order.StateCOMPLETED {
		t.Fatalf("ConfirmCardReady = %v, %v", done, err)
	}
	now := env.certsBySlot(t, crd)
	for _, slot := range []string{"9A", "9C"} {
		prev := env.db.Certificate.GetX(env.sys, old[slot].ID)
		if prev.State != certificate.StateREVOKED || prev.RevocationReason == nil || *prev.RevocationReason != revocation.Superseded {
			t.Errorf("old %s certificate is %s (%v), want REVOKED superseded", slot, prev.State, prev.RevocationReason)
		}
		if st, _ := env.ca.Status(env.sys, prev.Serial); st != ca.StatusRevoked {
			t.Errorf("the CA has the old %s certificate as %v", slot, st)
		}
		if now[slot] == nil || now[slot].OrderID != o.ID {
			t.Errorf("slot %s does not hold the renewal's certificate", slot)
		} else if prev.SupersededByID == nil || *prev.SupersededByID != now[slot].ID {
			t.Errorf("old %s certificate superseded by %v, want the renewal's %s", slot, prev.SupersededByID, now[slot].ID)
		}
	}
	if now["9D"] == nil || now["9D"].Serial != old["9D"].Serial || now["9D"].SupersededByID != nil {
		t.Errorf("the encryption certificate was not kept as it was")
	}
	got := env.db.Card.GetX(env.sys, crd.ID)
	if got.State != card.StateACTIVE || !got.ValidUntil.Equal(wantUntil) {
		t.Errorf("card is %s until %v, want ACTIVE until %v", got.State, got.ValidUntil, wantUntil)
	}
}

// TestRenewEndingEarlyKeepsTheOldCertificates: a renewal cancelled or expired after the CA
// issued leaves the card as it was: the new certificates revoked, the old ones valid, the
// validity unchanged.
func TestRenewEndingEarlyKeepsTheOldCertificates(t *testing.T) {
	for _, end := range []string{"cancel", "expire", "fail"} {
		t.Run(end, func(t *testing.T) {
			env := newEnv(t, nil)
			env.e.opts = &switchScript{}
			ann := env.as(env.ann, false)
			crd := env.newCardOf(t, env.ann)
			old := env.certsBySlot(t, crd)
			o, err := env.e.Start(ann, ProcessRenewCard, crd.ID)
			if err != nil {
				t.Fatal(err)
			}
			claim := env.handOffAndClaim(t, ann, o)
			issued, err := env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates))
			if err != nil {
				t.Fatal(err)
			}
			switch end {
			case "cancel":
				_, err = env.e.Cancel(ann, o.ID, "")
			case "fail":
				_, err = env.e.Fail(env.bridge(t, claim.SessionToken), o.ID, "Desktop App: the card refused")
			case "expire":
				env.clock.Add(env.idle + time.Minute)
				var res SweepResult
				if res, err = env.e.Sweep(env.sys); res.Expired != 1 {
					t.Fatalf("sweep expired %d orders", res.Expired)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range issued {
				got := env.db.Certificate.GetX(env.sys, c.ID)
				if got.State != certificate.StateREVOKED {
					t.Errorf("new %s certificate is %s after the renewal ended", c.Slot, got.State)
				}
				if st, _ := env.ca.Status(env.sys, c.Serial); st != ca.StatusRevoked {
					t.Errorf("the CA has the new %s certificate as %v", c.Slot, st)
				}
			}
			now := env.certsBySlot(t, crd)
			for slot, c := range old {
				if now[slot] == nil || now[slot].ID != c.ID {
					t.Errorf("slot %s lost its certificate", slot)
				}
			}
			if got := env.db.Card.GetX(env.sys, crd.ID); got.State != card.StateACTIVE || !got.ValidUntil.Equal(crd.ValidUntil) {
				t.Errorf("card is %s until %v, want as it was", got.State, got.ValidUntil)
			}
			// The card can be renewed again.
			if p := env.offered(t, ann, crd, ProcessRenewCard); !p.Available {
				t.Errorf("renew unavailable after an ended renewal: %s", reasonOf(p))
			}
		})
	}
}

// TestRenewRefusesACardLockedMeanwhile: the card locked while the Desktop App works on it
// gets no new certificates and keeps what it had.
func TestRenewRefusesACardLockedMeanwhile(t *testing.T) {
	env := newEnv(t, nil)
	env.e.opts = &switchScript{}
	ann := env.as(env.ann, false)
	crd := env.newCardOf(t, env.ann)
	o, err := env.e.Start(ann, ProcessRenewCard, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	claim := env.handOffAndClaim(t, ann, o)
	if _, err := env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates)); err != nil {
		t.Fatal(err)
	}
	env.db.Card.UpdateOneID(crd.ID).SetState(card.StateLOCKED).ExecX(env.sys)
	_, err = env.e.ConfirmCardReady(env.bridge(t, claim.SessionToken), o.ID, crd.Serial, device)
	wantCode(t, err, errs.IllegalState)
	if got := env.order(t, o.ID); got.State != order.StateISSUING_CERTIFICATES {
		t.Fatalf("order is %s", got.State)
	}
	if n := env.db.Certificate.Query().Where(certificate.CardID(crd.ID), certificate.StateNEQ(certificate.StateVALID)).CountX(env.sys); n != 0 {
		t.Errorf("%d of the card's certificates were superseded for a locked card", n)
	}
}

// TestRenewStarters: the person, an operator and the server (an expiry check) may renew;
// only the person and an operator may add certificates.
func TestRenewStarters(t *testing.T) {
	env := newEnv(t, nil)
	script := &switchScript{}
	env.e.opts = script
	crd := env.newCardOf(t, env.ann)
	o, err := env.e.StartAsSystem(env.sys, ProcessRenewCard, env.ann.ID, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.UserID != env.ann.ID || o.SubjectCardID == nil || *o.SubjectCardID != crd.ID {
		t.Fatalf("system's renewal is for %s on %v", o.UserID, o.SubjectCardID)
	}
	// The person hands it off from the portal, as from the dashboard's task.
	claim := env.handOffAndClaim(t, env.as(env.ann, false), o)
	if claim.Card.Serial != crd.Serial {
		t.Fatalf("claim names card %s", claim.Card.Serial)
	}
	if _, err := env.e.Cancel(env.as(env.admin, true), o.ID, "renewed by mistake"); err != nil {
		t.Fatal(err)
	}
	if p := env.offered(t, env.as(env.admin, true), crd, ProcessRenewCard); !p.Available {
		t.Fatalf("an operator may not renew: %s", reasonOf(p))
	}
	script.set(true)
	_, err = env.e.StartAsSystem(env.sys, ProcessIssueCertificates, env.ann.ID, crd.ID)
	wantCode(t, err, errs.Forbidden)
}

// TestIssueCertificatesAddsWhatTheScriptAsks: once the script asks for encryption, a card
// without it gets an encryption certificate, and keeps the others; with every certificate
// there, the process is not available, with its reason.
func TestIssueCertificatesAddsWhatTheScriptAsks(t *testing.T) {
	env := newEnv(t, nil)
	script := &switchScript{}
	env.e.opts = script
	ann := env.as(env.ann, false)
	crd := env.newCardOf(t, env.ann)
	before := env.certsBySlot(t, crd)
	if len(before) != 2 {
		t.Fatalf("card has %d certificates, want 9A and 9C", len(before))
	}
	if p := env.offered(t, ann, crd, ProcessIssueCertificates); p.Available || reasonOf(p) != UnavailableNothingToIssue {
		t.Fatalf("issue-certificates on a card with all: available %v, reason %q", p.Available, reasonOf(p))
	}
	_, err := env.e.Start(ann, ProcessIssueCertificates, crd.ID)
	wantCode(t, err, errs.IllegalState)

	script.set(true) // an administrator turns on encryption
	if p := env.offered(t, ann, crd, ProcessIssueCertificates); !p.Available {
		t.Fatalf("issue-certificates unavailable on a card that lacks 9D: %s", reasonOf(p))
	}
	o, err := env.e.Start(ann, ProcessIssueCertificates, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	claim := env.handOffAndClaim(t, ann, o)
	if got := slotsOf(claim.Card.Certificates); !slices.Equal(got, []string{"9D"}) {
		t.Fatalf("issues %v, want 9D", got)
	}
	if !claim.Card.ValidUntil.Equal(crd.ValidUntil) {
		t.Fatalf("the new certificate ends %v, want with the card %v", claim.Card.ValidUntil, crd.ValidUntil)
	}
	if _, err := env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates)); err != nil {
		t.Fatal(err)
	}
	done, err := env.e.ConfirmCardReady(env.bridge(t, claim.SessionToken), o.ID, crd.Serial, device)
	if err != nil || done.State != order.StateCOMPLETED {
		t.Fatalf("ConfirmCardReady = %v, %v", done, err)
	}
	after := env.certsBySlot(t, crd)
	if len(after) != 3 || after["9D"] == nil || after["9A"].ID != before["9A"].ID || after["9C"].ID != before["9C"].ID {
		t.Fatalf("card has %v after adding 9D", slotsOfCerts(after))
	}
	if got := env.db.Card.GetX(env.sys, crd.ID); !got.ValidUntil.Equal(crd.ValidUntil) {
		t.Errorf("adding a certificate moved the card's validity")
	}
	if p := env.offered(t, ann, crd, ProcessIssueCertificates); p.Available || reasonOf(p) != UnavailableNothingToIssue {
		t.Fatalf("issue-certificates after adding: available %v, reason %q", p.Available, reasonOf(p))
	}
}

func slotsOfCerts(m map[string]*ent.Certificate) []string {
	var out []string
	for s := range m {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestRenewSupersedesAtTheCAAfterACrash: the CA cannot be reached when the renewal
// completes; the old certificates are superseded in the identity store at once and the
// sweep tells the CA once it answers again.
func TestRenewSupersedesAtTheCAAfterACrash(t *testing.T) {
	env := newEnv(t, nil)
	env.e.opts = &switchScript{}
	ann := env.as(env.ann, false)
	crd := env.newCardOf(t, env.ann)
	old := env.certsBySlot(t, crd)
	o, err := env.e.Start(ann, ProcessRenewCard, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	claim := env.handOffAndClaim(t, ann, o)
	if _, err := env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates)); err != nil {
		t.Fatal(err)
	}
	env.ca.mu.Lock()
	env.ca.failRevoke = errCADown
	env.ca.mu.Unlock()
	if _, err := env.e.ConfirmCardReady(env.bridge(t, claim.SessionToken), o.ID, crd.Serial, device); err != nil {
		t.Fatal(err)
	}
	for slot, c := range old {
		if st, _ := env.ca.Status(env.sys, c.Serial); st != ca.StatusValid {
			t.Fatalf("the CA has the old %s certificate as %v while it was down", slot, st)
		}
	}
	env.ca.mu.Lock()
	env.ca.failRevoke = nil
	env.ca.mu.Unlock()
	env.clock.Add(time.Minute)
	if _, err := env.e.Sweep(env.sys); err != nil {
		t.Fatal(err)
	}
	for slot, c := range old {
		if st, _ := env.ca.Status(env.sys, c.Serial); st != ca.StatusRevoked {
			t.Errorf("after the sweep the CA has the old %s certificate as %v", slot, st)
		}
	}
}
