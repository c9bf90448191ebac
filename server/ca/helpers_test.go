package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"entgo.io/ent/dialect"
	_ "modernc.org/sqlite"

	"github.com/vscard/vscard/ent"
	_ "github.com/vscard/vscard/ent/runtime" // hooks, defaults and privacy policies, as in the server
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newEntClient opens a fresh SQLite database, as the server does, and creates the schema.
func newEntClient(tb testing.TB) *ent.Client {
	tb.Helper()
	dsn := "file:" + filepath.Join(tb.TempDir(), "t.db") +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, db)))
	tb.Cleanup(func() { client.Close() })
	if err := client.Schema.Create(context.Background()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	return client
}

type testCA struct {
	*CA
	client *ent.Client
	store  *EntStore
	clock  *clock
	dir    string
}

// newTestCA opens a CA in a fresh folder on a fresh SQLite store. wrap, if given, wraps
// the store the CA uses.
func newTestCA(tb testing.TB, wrap func(Store) Store) *testCA {
	tb.Helper()
	client := newEntClient(tb)
	store := NewEntStore(client)
	clk := newClock()
	var s Store = store
	if wrap != nil {
		s = wrap(store)
	}
	dir := filepath.Join(tb.TempDir(), "ca")
	c, err := Open(dir, testConfig(clk), s)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return &testCA{CA: c, client: client, store: store, clock: clk, dir: dir}
}

func testConfig(clk *clock) Config {
	return Config{
		Organization: "Example Org",
		BaseURL:      "http://localhost:8080/",
		Now:          clk.Now,
	}
}

// recordCount counts the CA records in the database, bypassing the store.
func (tc *testCA) recordCount(tb testing.TB) int {
	tb.Helper()
	n, err := tc.client.CaRecord.Query().Count(system(context.Background()))
	if err != nil {
		tb.Fatalf("count records: %v", err)
	}
	return n
}

func newP256(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// makeCSR returns a DER CSR signed by key, with extra extensions.
func makeCSR(tb testing.TB, key crypto.Signer, exts ...pkix.Extension) []byte {
	tb.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: "ignored by the CA"},
		ExtraExtensions: exts,
	}, key)
	if err != nil {
		tb.Fatalf("create CSR: %v", err)
	}
	return der
}

// sanExt returns a subjectAltName extension for a CSR.
func sanExt(tb testing.TB, s sans) pkix.Extension {
	tb.Helper()
	der, err := marshalSANs(s)
	if err != nil {
		tb.Fatal(err)
	}
	return pkix.Extension{Id: oidSubjectAltName, Value: der}
}

func authRequest(csr []byte, notAfter time.Time) IssueRequest {
	return IssueRequest{
		CSR:       csr,
		Template:  cardspec.Authentication,
		Subject:   pkix.Name{CommonName: "Alice Example", Organization: []string{"Example Org"}},
		UPN:       "alice@corp.example.com",
		Emails:    []string{"alice@example.com"},
		NotAfter:  notAfter,
		Reference: "ord_test",
	}
}

// wantCode fails unless err carries code.
func wantCode(tb testing.TB, err error, code errs.Code) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s", code)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code {
		tb.Fatalf("got error %v (code %s), want code %s", err, errs.CodeOf(err), code)
	}
}
