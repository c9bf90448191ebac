package enroll

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/secretbox"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// fakeCA is a small certificate authority in memory that signs real certificates and can
// fail on demand: the engine's CA paths (failure mid-order, revocation left to the sweep)
// are tested without the embedded CA's database.
type fakeCA struct {
	mu      sync.Mutex
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	records map[string]*caRecord // by serial
	issues  int
	// failIssue, when set, decides whether the n-th Issue (from 1) fails.
	failIssue func(n int) error
	// failRevoke, when set, fails every Revoke and RevokeReference: the CA is down.
	failRevoke error
	// duringIssue, when set, runs inside Issue, e.g. a cancel that races the signing.
	duringIssue func()
}

type caRecord struct {
	ref    string
	status ca.Status
	reason int // the CRL reason of the last Revoke
}

func newFakeCA(t *testing.T) *fakeCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &fakeCA{key: key, cert: cert, records: map[string]*caRecord{}}
}

func (f *fakeCA) Issue(_ context.Context, req ca.IssueRequest) (*ca.Issued, error) {
	f.mu.Lock()
	f.issues++
	n, fail, during := f.issues, f.failIssue, f.duringIssue
	f.mu.Unlock()
	if fail != nil {
		if err := fail(n); err != nil {
			return nil, err
		}
	}
	if during != nil {
		during()
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil {
		return nil, fmt.Errorf("parse CSR: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: req.Subject, EmailAddresses: req.Emails,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: req.NotAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.cert, csr.PublicKey, f.key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	s := fmt.Sprintf("%x", serial)
	f.mu.Lock()
	f.records[s] = &caRecord{ref: req.Reference, status: ca.StatusValid}
	f.mu.Unlock()
	return &ca.Issued{Serial: s, DER: der, Certificate: cert}, nil
}

func (f *fakeCA) Revoke(_ context.Context, serial string, reason int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failRevoke != nil {
		return f.failRevoke
	}
	if r, ok := f.records[serial]; ok {
		switch reason {
		case ocsp.CertificateHold:
			r.status = ca.StatusOnHold
		case ocsp.RemoveFromCRL:
			r.status = ca.StatusValid
		default:
			r.status = ca.StatusRevoked
		}
		r.reason = reason
	}
	return nil
}

// record returns the CA's status of serial and the reason of its last revocation.
func (f *fakeCA) record(serial string) (ca.Status, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.records[serial]; ok {
		return r.status, r.reason
	}
	return ca.StatusUnknown, -1
}

func (f *fakeCA) Status(_ context.Context, serial string) (ca.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.records[serial]; ok {
		return r.status, nil
	}
	return ca.StatusUnknown, nil
}

func (f *fakeCA) Chain() []*x509.Certificate { return []*x509.Certificate{f.cert} }

func (f *fakeCA) RevokeReference(_ context.Context, ref string, _ int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failRevoke != nil {
		return nil, f.failRevoke
	}
	var out []string
	for s, r := range f.records {
		if r.ref == ref && r.status != ca.StatusRevoked {
			r.status = ca.StatusRevoked
			out = append(out, s)
		}
	}
	return out, nil
}

// statuses counts the CA's records of ref by status.
func (f *fakeCA) statuses(ref string) map[ca.Status]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[ca.Status]int{}
	for _, r := range f.records {
		if r.ref == ref {
			out[r.status]++
		}
	}
	return out
}

// plainCA is the fake CA without RevokeReference: a CA that can only revoke by serial,
// for the sweep's other path.
type plainCA struct{ f *fakeCA }

func (p plainCA) Issue(ctx context.Context, r ca.IssueRequest) (*ca.Issued, error) {
	return p.f.Issue(ctx, r)
}
func (p plainCA) Revoke(ctx context.Context, s string, r int) error { return p.f.Revoke(ctx, s, r) }
func (p plainCA) Status(ctx context.Context, s string) (ca.Status, error) {
	return p.f.Status(ctx, s)
}
func (p plainCA) Chain() []*x509.Certificate { return p.f.Chain() }

// clock is the engine's time in tests: it moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// fixedOptions is the option script's answer for everyone: one authentication certificate.
type fixedOptions struct{}

func (fixedOptions) Evaluate(_ context.Context, u *ent.User) (*cardspec.Options, string, error) {
	return &cardspec.Options{
		PIN:          cardspec.PINPolicy{MinLength: 6, MaxLength: 8},
		Certificates: []cardspec.CertificateSpec{{Template: cardspec.Authentication, Slot: "9A", Algorithm: cardspec.ECCP256}},
		Validity:     cardspec.Validity{Years: 1},
		Properties:   cardspec.Properties{CommonName: u.Username, UserID: u.Username},
	}, "1", nil
}

// testEnv is an engine on a fresh database (SQLite, or PostgreSQL when
// VSCARD_TEST_POSTGRES is set) with a fake CA and a clock.
type testEnv struct {
	e               *Engine
	db              *ent.Client
	ca              *fakeCA
	clock           *clock
	ann, bob, admin *ent.User
	sys             context.Context
	idle, tokenTTL  time.Duration
}

// newEnv starts an engine that also runs the processes extra (test-only ones). authority
// replaces the fake CA when set (plainCA).
func newEnv(t *testing.T, authority func(*fakeCA) ca.Authority, extra ...*Definition) *testEnv {
	t.Helper()
	sys := viewer.AsServer(viewer.AsServer(context.Background()))
	dsn := filepath.Join(t.TempDir(), "vscard.db")
	if storetest.Postgres() != "" { // the same tests on PostgreSQL (VSCARD_TEST_POSTGRES)
		dsn = storetest.PostgresDatabase(t)
	}
	db, err := store.Open(sys, dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(sys); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(secretbox.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeCA(t)
	var auth ca.Authority = f
	if authority != nil {
		auth = authority(f)
	}
	clk := &clock{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	env := &testEnv{db: db.Client, ca: f, clock: clk, sys: sys, idle: 30 * time.Minute, tokenTTL: 10 * time.Minute}
	env.e = New(db.Client, auth, events.NewLocal(), fixedOptions{}, box, Config{
		PublicURL: "https://vscard.test", Now: clk.Now, Dialect: db.Dialect,
		IdleTTL: env.idle, TokenTTL: env.tokenTTL,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, d := range extra {
		if err := env.e.procs.register(d); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name string, st user.State) *ent.User {
		return db.Client.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject(name).
			SetUsername(name).SetState(st).SaveX(sys)
	}
	env.ann, env.bob, env.admin = mk("ann", user.StateACTIVE), mk("bob", user.StateINACTIVE), mk("root", user.StateACTIVE)
	return env
}

// as is a request of u (an administrator when admin).
func (env *testEnv) as(u *ent.User, admin bool) context.Context {
	roles := []string{viewer.RoleUser}
	if admin {
		roles = append(roles, viewer.RoleAdmin)
	}
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: u.ID, Name: u.Username, Roles: roles})
}

// bridge is a request of the Desktop App holding session, authenticated afresh as each
// real request is.
func (env *testEnv) bridge(t *testing.T, session string) context.Context {
	t.Helper()
	v, err := env.e.AuthenticateBridge(context.Background(), session)
	if err != nil {
		t.Fatalf("authenticate bridge: %v", err)
	}
	return viewer.NewContext(context.Background(), v)
}

// activeCard gives u an ACTIVE card, as a completed get-virtual-smart-card leaves it.
func (env *testEnv) activeCard(t *testing.T, u *ent.User, serial string) *ent.Card {
	t.Helper()
	now := env.clock.Now()
	return env.db.Card.Create().SetSerial(serial).SetOwnerID(u.ID).SetState(card.StateACTIVE).
		SetValidFrom(now).SetValidUntil(now.AddDate(1, 0, 0)).
		SetProperties(cardspec.Properties{CommonName: u.Username}).
		SetManagementKey([]byte{1}).SetPuk([]byte{2}).SaveX(env.sys)
}

// order reads an order as it is now.
func (env *testEnv) order(t *testing.T, id string) *ent.Order {
	t.Helper()
	o, err := env.db.Order.Get(env.sys, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// handoffToken takes the token and process out of a hand-off link.
func handoffToken(t *testing.T, link string) (token, process string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "vscard" || u.Host != "enroll" {
		t.Fatalf("hand-off link %q: %v", link, err)
	}
	q := u.Query()
	return q.Get("token"), q.Get("process")
}

// p256CSR is a PEM CSR of a fresh P-256 key, as the card makes one.
func p256CSR(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrFor(t, k)}))
}

var errCADown = errors.New("the CA is down")

var device = &record.Device{Reader: "Virtual PCD 00 00", Host: "desk-1"}
