package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/viewer"
)

// The GraphQL operations a portal and a desktop bridge send, as they would.
const (
	qStart   = `mutation { startProcess { id state } }`
	qNext    = `mutation($id: ID!) { nextStep(orderId: $id) { order { id state } handoff { url verificationCode expiresAt } } }`
	qCancel  = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "changed my mind") { id state } }`
	qClaim   = `mutation($id: ID!, $token: String!) { claimOrder(orderId: $id, token: $token, device: {reader: "Virtual PCD 00 00", host: "test"}) { sessionToken verificationCode userName order { state } card { serial managementKey puk pinPolicy { minLength maxLength } certificates { template slot algorithm } } } }`
	qCreate  = `mutation($id: ID!) { reportCardCreation(orderId: $id) { state } }`
	qSubmit  = `mutation($id: ID!, $keys: [KeySubmission!]!) { submitCardKeys(orderId: $id, keys: $keys) { serial slot state pem } }`
	qReady   = `mutation($id: ID!, $serial: String!) { confirmCardReady(orderId: $id, serial: $serial, device: {reader: "Virtual PCD 00 00"}) { state } }`
	qOrder   = `query($id: ID!) { order(id: $id) { id state card { serial state } certificates { edges { node { serial state } } } } }`
	qCard    = `query($serial: String!) { card(serial: $serial) { serial state certificates { edges { node { serial slot template state } } } } }`
	qCards   = `{ cards { totalCount edges { node { serial state } } } }`
	qUpdates = `subscription($id: ID!) { orderUpdated(id: $id) { state } }`
)

// order is the flow of one order as the tests drive it.
type order struct {
	t       *testing.T
	env     *servertest.Env
	user    *servertest.Client
	id      string
	handoff struct {
		URL              string `json:"url"`
		VerificationCode string `json:"verificationCode"`
	}
	token  string
	bridge *servertest.Client
	claim  claim
	certs  []issued
}

type claim struct {
	SessionToken     string `json:"sessionToken"`
	VerificationCode string `json:"verificationCode"`
	UserName         string `json:"userName"`
	Card             struct {
		Serial       string `json:"serial"`
		Certificates []struct {
			Template, Slot, Algorithm string
		} `json:"certificates"`
	} `json:"card"`
}

type issued struct {
	Serial, Slot, State, Pem string
}

func start(t *testing.T, env *servertest.Env, user *servertest.Client) *order {
	t.Helper()
	var out struct{ StartProcess struct{ ID, State string } }
	user.MustDo(t, qStart, nil, &out)
	if out.StartProcess.State != "STARTED" {
		t.Fatalf("new order is %s, want STARTED", out.StartProcess.State)
	}
	return &order{t: t, env: env, user: user, id: out.StartProcess.ID}
}

func (o *order) next() string {
	o.t.Helper()
	var out struct {
		NextStep struct {
			Order   struct{ State string }
			Handoff *struct {
				URL              string `json:"url"`
				VerificationCode string `json:"verificationCode"`
			}
		}
	}
	o.user.MustDo(o.t, qNext, map[string]any{"id": o.id}, &out)
	if h := out.NextStep.Handoff; h != nil {
		o.handoff.URL, o.handoff.VerificationCode = h.URL, h.VerificationCode
		u, err := url.Parse(h.URL)
		if err != nil || u.Scheme != "vscard" || u.Host != "enroll" {
			o.t.Fatalf("hand-off link %q is not vscard://enroll", h.URL)
		}
		if u.Query().Get("server") != o.env.URL || u.Query().Get("order") != o.id {
			o.t.Fatalf("hand-off link %q names the wrong server or order", h.URL)
		}
		o.token = u.Query().Get("token")
	}
	return out.NextStep.Order.State
}

func (o *order) claimWith(token string) error {
	var out struct{ ClaimOrder claim }
	err := o.env.Anonymous().Do(context.Background(), qClaim, map[string]any{"id": o.id, "token": token}, &out)
	if err == nil {
		o.claim = out.ClaimOrder
		o.bridge = o.env.Bearer(o.claim.SessionToken)
	}
	return err
}

func (o *order) mustClaim() {
	o.t.Helper()
	if err := o.claimWith(o.token); err != nil {
		o.t.Fatalf("claim: %v", err)
	}
	if o.claim.VerificationCode != o.handoff.VerificationCode {
		o.t.Fatalf("bridge shows code %q, portal %q", o.claim.VerificationCode, o.handoff.VerificationCode)
	}
}

func (o *order) mustCreate() {
	o.t.Helper()
	o.bridge.MustDo(o.t, qCreate, map[string]any{"id": o.id}, nil)
}

// keys makes one software key and CSR per requested certificate, as the bridge would on
// the card.
func (o *order) keys() []map[string]any {
	o.t.Helper()
	var keys []map[string]any
	for _, c := range o.claim.Card.Certificates {
		if c.Algorithm != "ECCP256" {
			o.t.Fatalf("test makes P-256 keys; the options ask for %s", c.Algorithm)
		}
		keys = append(keys, map[string]any{"slot": c.Slot, "template": c.Template, "csr": csrPEM(o.t, elliptic.P256())})
	}
	return keys
}

func (o *order) mustSubmit() {
	o.t.Helper()
	var out struct{ SubmitCardKeys []issued }
	o.bridge.MustDo(o.t, qSubmit, map[string]any{"id": o.id, "keys": o.keys()}, &out)
	o.certs = out.SubmitCardKeys
}

func (o *order) mustReady() {
	o.t.Helper()
	o.bridge.MustDo(o.t, qReady, map[string]any{"id": o.id, "serial": o.claim.Card.Serial}, nil)
}

// toCardReady drives a new order to CARD_READY: Next in the portal, then the bridge claims,
// creates the card, submits its keys and confirms it.
func (o *order) toCardReady() {
	o.t.Helper()
	o.next()
	o.mustClaim()
	o.mustCreate()
	o.mustSubmit()
	o.mustReady()
}

func (o *order) state() string {
	o.t.Helper()
	var out struct{ Order struct{ State string } }
	o.user.MustDo(o.t, qOrder, map[string]any{"id": o.id}, &out)
	return out.Order.State
}

func csrPEM(t testing.TB, curve elliptic.Curve) string {
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "card key"}}, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// ocspStatus asks the server's OCSP responder over HTTP.
func ocspStatus(t *testing.T, env *servertest.Env, certPEM string) int {
	t.Helper()
	return ocspResponse(t, env, certPEM).Status
}

// ocspResponse asks the server's OCSP responder about certPEM.
func ocspResponse(t *testing.T, env *servertest.Env, certPEM string) *ocsp.Response {
	t.Helper()
	block, _ := pem.Decode([]byte(certPEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	issuer := env.Server.CA.Chain()[0]
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(env.URL+"/ca/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		t.Fatalf("parse OCSP response: %v", err)
	}
	return r
}

func TestGetVirtualSmartCard(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := alice.Subscribe(ctx, qUpdates, map[string]any{"id": o.id})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := <-sub.Next // the current state comes first

	if got := o.next(); got != "AWAITING_DESKTOP_APP" {
		t.Fatalf("after Next the order is %s", got)
	}
	o.mustClaim()
	if o.claim.UserName != "Alice Active" {
		t.Errorf("bridge shows user %q", o.claim.UserName)
	}
	o.mustCreate()
	o.mustSubmit()
	if len(o.certs) != 2 {
		t.Fatalf("issued %d certificates, want 2 (authentication and signature by default)", len(o.certs))
	}
	o.mustReady()
	if got := o.next(); got != "COMPLETED" {
		t.Fatalf("after the last Next the order is %s", got)
	}

	var card struct {
		Card struct {
			State        string
			Certificates struct{ Edges []struct{ Node issued } }
		}
	}
	alice.MustDo(t, qCard, map[string]any{"serial": o.claim.Card.Serial}, &card)
	if card.Card.State != "ACTIVE" {
		t.Errorf("card is %s, want ACTIVE", card.Card.State)
	}
	for _, e := range card.Card.Certificates.Edges {
		if e.Node.State != "VALID" {
			t.Errorf("certificate %s is %s in the identity store, want VALID", e.Node.Serial, e.Node.State)
		}
		if st, err := env.Server.CA.Status(context.Background(), e.Node.Serial); err != nil || st != "VALID" {
			t.Errorf("certificate %s is %s in the CA's records (%v), want VALID", e.Node.Serial, st, err)
		}
	}
	for _, c := range o.certs {
		if got := ocspStatus(t, env, c.Pem); got != ocsp.Good {
			t.Errorf("OCSP says %d for %s, want good", got, c.Serial)
		}
	}

	// Every state, in order, live.
	states := []string{decodeState(t, first)}
	for data := range sub.Next {
		if s := decodeState(t, data); s != states[len(states)-1] {
			states = append(states, s)
		}
	}
	want := []string{"STARTED", "AWAITING_DESKTOP_APP", "DESKTOP_APP_CONNECTED", "CREATING_CARD", "ISSUING_CERTIFICATES", "CARD_READY", "COMPLETED"}
	if len(*sub.Err) > 0 {
		t.Fatalf("subscription ended with %v", *sub.Err)
	}
	if !equal(states, want) {
		t.Fatalf("subscription saw %v\nwant %v", states, want)
	}
}

func decodeState(t *testing.T, data json.RawMessage) string {
	t.Helper()
	var v struct{ OrderUpdated struct{ State string } }
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v.OrderUpdated.State
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCancelAtEachStep cancels from the portal at every step: afterwards no card is
// active and no certificate is valid, in the identity store, at the CA and over OCSP.
func TestCancelAtEachStep(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	steps := []struct {
		name  string
		drive func(o *order)
	}{
		{"STARTED", func(o *order) {}},
		{"AWAITING_DESKTOP_APP", func(o *order) { o.next() }},
		{"DESKTOP_APP_CONNECTED", func(o *order) { o.next(); o.mustClaim() }},
		{"CREATING_CARD", func(o *order) { o.next(); o.mustClaim(); o.mustCreate() }},
		{"ISSUING_CERTIFICATES", func(o *order) { o.next(); o.mustClaim(); o.mustCreate(); o.mustSubmit() }},
		{"CARD_READY", func(o *order) { o.next(); o.mustClaim(); o.mustCreate(); o.mustSubmit(); o.mustReady() }},
	}
	for _, step := range steps {
		t.Run("ok/"+step.name, func(t *testing.T) {
			o := start(t, env, alice)
			o.t = t
			step.drive(o)
			if got := o.state(); got != step.name {
				t.Fatalf("order is %s, want %s", got, step.name)
			}
			var out struct{ CancelOrder struct{ State string } }
			alice.MustDo(t, qCancel, map[string]any{"id": o.id}, &out)
			if out.CancelOrder.State != "CANCELLED" {
				t.Fatalf("cancelled order is %s", out.CancelOrder.State)
			}
			var cards struct{ Cards struct{ TotalCount int } }
			alice.MustDo(t, qCards, nil, &cards)
			if cards.Cards.TotalCount != 0 {
				t.Errorf("%d cards left after cancel", cards.Cards.TotalCount)
			}
			var ord struct {
				Order struct {
					Card         *struct{ Serial string }
					Certificates struct{ Edges []struct{ Node issued } }
				}
			}
			alice.MustDo(t, qOrder, map[string]any{"id": o.id}, &ord)
			if ord.Order.Card != nil {
				t.Errorf("order still has card %s", ord.Order.Card.Serial)
			}
			for _, e := range ord.Order.Certificates.Edges {
				if e.Node.State != "REVOKED" {
					t.Errorf("certificate %s is %s after cancel, want REVOKED", e.Node.Serial, e.Node.State)
				}
				if st, _ := env.Server.CA.Status(context.Background(), e.Node.Serial); st != "REVOKED" {
					t.Errorf("CA says %s for %s after cancel, want REVOKED", st, e.Node.Serial)
				}
			}
			for _, c := range o.certs {
				if got := ocspStatus(t, env, c.Pem); got != ocsp.Revoked {
					t.Errorf("OCSP says %d for %s after cancel, want revoked", got, c.Serial)
				}
			}
			// The bridge session ended with the order (not 30 minutes later): its next
			// call, and a read of the order, are refused.
			if o.bridge != nil {
				err := o.bridge.Do(context.Background(), qCreate, map[string]any{"id": o.id}, nil)
				if code := codeOf(err); code != "UNAUTHENTICATED" {
					t.Errorf("bridge call after cancel: %v, want UNAUTHENTICATED", err)
				}
				err = o.bridge.Do(context.Background(), qOrder, map[string]any{"id": o.id}, nil)
				if code := codeOf(err); code != "UNAUTHENTICATED" {
					t.Errorf("bridge read after cancel: %v, want UNAUTHENTICATED", err)
				}
			}
		})
	}
}

func codeOf(err error) string {
	if es, ok := err.(servertest.Errors); ok {
		return es.Code()
	}
	return ""
}

// TestMutationResultsResolveEdges: what a mutation returns was saved in a transaction;
// its edges must still resolve after the commit.
func TestMutationResultsResolveEdges(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	o.next()
	o.mustClaim()
	o.mustCreate()
	var out struct {
		SubmitCardKeys []struct{ Card struct{ Serial string } }
	}
	o.bridge.MustDo(t, `mutation($id: ID!, $keys: [KeySubmission!]!) { submitCardKeys(orderId: $id, keys: $keys) { card { serial } } }`,
		map[string]any{"id": o.id, "keys": o.keys()}, &out)
	if len(out.SubmitCardKeys) == 0 || out.SubmitCardKeys[0].Card.Serial != o.claim.Card.Serial {
		t.Fatalf("submitCardKeys edges: %+v", out)
	}
	var c struct {
		CancelOrder struct {
			User  struct{ Username string }
			Steps []struct{ State string }
		}
	}
	alice.MustDo(t, `mutation($id: ID!) { cancelOrder(orderId: $id) { user { username } steps { state } } }`, map[string]any{"id": o.id}, &c)
	if c.CancelOrder.User.Username != "alice" || len(c.CancelOrder.Steps) != 6 {
		t.Fatalf("cancelOrder edges: %+v", c)
	}
}

// TestRevokeCard: the person's reason decides the RFC 5280 reason on the certificates, in
// the CRL and in OCSP; their comment goes, trimmed, to the audit event only.
func TestRevokeCard(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)
	const q = `mutation($s: String!, $r: RevocationReason!, $c: String) { revokeCard(serial: $s, reason: $r, comment: $c) { id state certificates { edges { node { serial state revocationReason } } } } }`
	// Callers from before reasons existed name none: NO_LONGER_NEEDED.
	const qDefault = `mutation($s: String!) { revokeCard(serial: $s) { id state certificates { edges { node { serial state revocationReason } } } } }`
	type revoked struct {
		RevokeCard struct {
			ID, State    string
			Certificates struct {
				Edges []struct {
					Node struct{ Serial, State, RevocationReason string }
				}
			}
		}
	}
	newCard := func(t *testing.T) *order {
		t.Helper()
		o := start(t, env, alice)
		o.toCardReady()
		o.next()
		return o
	}

	tests := []struct {
		name, reason, comment string
		wantReason            string
		wantCode              int
		wantComment           string
	}{
		{name: "ok/lost-or-stolen", reason: "LOST_OR_STOLEN", comment: "  Left the laptop on the train.\n", wantReason: "keyCompromise", wantCode: ocsp.KeyCompromise, wantComment: "Left the laptop on the train."},
		{name: "ok/replaced", reason: "REPLACED", wantReason: "superseded", wantCode: ocsp.Superseded},
		{name: "ok/no-longer-needed", reason: "NO_LONGER_NEEDED", comment: strings.Repeat("é", enroll.MaxRevokeComment), wantReason: "cessationOfOperation", wantCode: ocsp.CessationOfOperation, wantComment: strings.Repeat("é", enroll.MaxRevokeComment)},
		{name: "ok/default-reason", wantReason: "cessationOfOperation", wantCode: ocsp.CessationOfOperation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newCard(t)
			vars := map[string]any{"s": o.claim.Card.Serial}
			query := qDefault
			if tt.reason != "" {
				query, vars["r"], vars["c"] = q, tt.reason, tt.comment
			}
			if err := carol.Do(context.Background(), query, vars, nil); codeOf(err) != "NOT_FOUND" {
				t.Fatalf("another user revoking: %v, want NOT_FOUND", err)
			}
			var out revoked
			alice.MustDo(t, query, vars, &out)
			if out.RevokeCard.State != "INACTIVE" || len(out.RevokeCard.Certificates.Edges) != 2 {
				t.Fatalf("revoked card: %+v", out.RevokeCard)
			}
			crl := fetchServerCRL(t, env)
			for _, e := range out.RevokeCard.Certificates.Edges {
				st, _ := env.Server.CA.Status(context.Background(), e.Node.Serial)
				if e.Node.State != "REVOKED" || st != "REVOKED" || e.Node.RevocationReason != tt.wantReason {
					t.Errorf("certificate %s: %s (%s), CA %s; want REVOKED (%s) in both", e.Node.Serial, e.Node.State, e.Node.RevocationReason, st, tt.wantReason)
				}
				if entry := crlEntryOf(crl, e.Node.Serial); entry == nil || entry.ReasonCode != tt.wantCode {
					t.Errorf("CRL entry of %s: %+v, want reason %d", e.Node.Serial, entry, tt.wantCode)
				}
			}
			for _, c := range o.certs {
				if r := ocspResponse(t, env, c.Pem); r.Status != ocsp.Revoked || r.RevocationReason != tt.wantCode {
					t.Errorf("OCSP says %d reason %d for %s, want revoked with %d", r.Status, r.RevocationReason, c.Serial, tt.wantCode)
				}
			}
			ev, err := env.Server.DB.Client.AuditEvent.Query().
				Where(auditevent.Action("card.revoke"), auditevent.ObjectID(out.RevokeCard.ID)).Only(systemCtx())
			if err != nil {
				t.Fatal(err)
			}
			wantCause := tt.reason
			if wantCause == "" {
				wantCause = "NO_LONGER_NEEDED"
			}
			if ev.Details["reason"] != wantCause || ev.Details["crlReason"] != tt.wantReason || ev.Details["comment"] != tt.wantComment {
				t.Errorf("audit details %v, want reason %s, crlReason %s, comment %q", ev.Details, wantCause, tt.wantReason, tt.wantComment)
			}
			if err := alice.Do(context.Background(), query, vars, nil); codeOf(err) != "ILLEGAL_STATE" {
				t.Fatalf("revoking twice: %v, want ILLEGAL_STATE", err)
			}
		})
	}

	t.Run("error/comment-too-long", func(t *testing.T) {
		o := newCard(t)
		vars := map[string]any{"s": o.claim.Card.Serial, "r": "LOST_OR_STOLEN", "c": strings.Repeat("x", enroll.MaxRevokeComment+1)}
		err := alice.Do(context.Background(), q, vars, nil)
		if codeOf(err) != "INVALID_INPUT" || !strings.Contains(err.Error(), "shorten it to at most 500") {
			t.Fatalf("a long comment: %v, want INVALID_INPUT asking to shorten it", err)
		}
		for _, c := range o.certs {
			if got := ocspStatus(t, env, c.Pem); got != ocsp.Good {
				t.Errorf("after a refused revocation OCSP says %d for %s, want good", got, c.Serial)
			}
		}
	})
	t.Run("error/unknown-reason", func(t *testing.T) {
		o := newCard(t)
		vars := map[string]any{"s": o.claim.Card.Serial, "r": "STOLEN"}
		if err := alice.Do(context.Background(), q, vars, nil); err == nil {
			t.Fatal("an unknown reason was accepted")
		}
	})
}

// fetchServerCRL fetches and parses the server's CRL.
func fetchServerCRL(t *testing.T, env *servertest.Env) *x509.RevocationList {
	t.Helper()
	resp, err := http.Get(env.URL + "/ca/crl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("parse CRL: %v", err)
	}
	return crl
}

func crlEntryOf(crl *x509.RevocationList, serial string) *x509.RevocationListEntry {
	for i, e := range crl.RevokedCertificateEntries {
		if strings.EqualFold(e.SerialNumber.Text(16), serial) {
			return &crl.RevokedCertificateEntries[i]
		}
	}
	return nil
}

// TestConfirmCardReadyRefuses: the bridge can confirm only this order's card, and only once
// all of its certificates are valid; a refusal changes nothing.
func TestConfirmCardReadyRefuses(t *testing.T) {
	env := servertest.Start(t)
	o := start(t, env, env.SignIn(t, servertest.Alice))
	o.next()
	o.mustClaim()
	o.mustCreate()
	confirm := func(serial string) error {
		return o.bridge.Do(context.Background(), qReady, map[string]any{"id": o.id, "serial": serial}, nil)
	}
	if err := confirm(o.claim.Card.Serial); codeOf(err) != "ILLEGAL_STATE" {
		t.Fatalf("confirm before the keys: %v, want ILLEGAL_STATE", err)
	}
	o.mustSubmit()
	if err := confirm("99999999"); codeOf(err) != "INVALID_INPUT" {
		t.Fatalf("confirm another serial: %v, want INVALID_INPUT", err)
	}
	// A certificate that is no longer valid (revoked behind the bridge's back) is missing.
	sys := viewer.AsServer(context.Background())
	env.Server.DB.Client.Certificate.Update().Where(certificate.Serial(o.certs[0].Serial)).
		SetState(certificate.StateREVOKED).ExecX(sys)
	err := confirm(o.claim.Card.Serial)
	if codeOf(err) != "ILLEGAL_STATE" || !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("confirm with a revoked certificate: %v, want ILLEGAL_STATE with 1 of 2", err)
	}
	if got := o.state(); got != "ISSUING_CERTIFICATES" {
		t.Fatalf("after the refusals the order is %s", got)
	}
}
