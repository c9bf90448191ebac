package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// savingStore counts the CRLs stored, i.e. signed by an instance that held the claim.
type savingStore struct {
	*EntStore
	saves atomic.Int64
}

func (s *savingStore) SaveCRL(ctx context.Context, scope int, holder string, changes int64, crl *StoredCRL) error {
	s.saves.Add(1)
	return s.EntStore.SaveCRL(ctx, scope, holder, changes, crl)
}

// TestCRLSignedOncePerCluster: two instances on one database and one bus sign each change
// of the CRL once between them and hand out the same CRL; an unchanged CRL is loaded, not
// signed, when an instance looks again; one past half its validity is signed again, once;
// while another instance holds the claim to sign, the previous CRL is served, and the
// claim of an instance that died runs out.
func TestCRLSignedOncePerCluster(t *testing.T) {
	for name, dsn := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(viewer.AsServer(context.Background()))
			t.Cleanup(cancel)
			db, err := store.Open(ctx, dsn(t), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			clk := newClock()
			dir := t.TempDir()
			shared := &savingStore{EntStore: NewEntStore(db.Client)}
			bus := events.NewLocal()
			open := func() *CA {
				c, err := Open(dir, testConfig(clk), shared)
				if err != nil {
					t.Fatal(err)
				}
				c.Follow(ctx, bus)
				<-c.OCSPFilterLoaded()
				return c
			}
			a, b := open(), open()
			revoke := func(c *CA) *Issued {
				t.Helper()
				got, err := c.Issue(ctx, authRequest(makeCSR(t, newP256(t)), clk.Now().Add(48*time.Hour)))
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Revoke(ctx, got.Serial, ocsp.KeyCompromise); err != nil {
					t.Fatal(err)
				}
				return got
			}
			// both fetches the whole CRL from a and b and checks they are one CRL.
			both := func(step string, saves int64) *x509.RevocationList {
				t.Helper()
				derA, err := a.CRL(ctx)
				if err != nil {
					t.Fatal(err)
				}
				derB, err := b.CRL(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(derA, derB) {
					t.Errorf("%s: the instances hand out different CRLs", step)
				}
				if got := shared.saves.Load(); got != saves {
					t.Errorf("%s: %d CRLs signed and stored, want %d", step, got, saves)
				}
				crl, err := x509.ParseRevocationList(derA)
				if err != nil {
					t.Fatal(err)
				}
				return crl
			}

			first := revoke(a)
			crl := both("revoked on A", 1)
			if !crlHas(crl, first.Serial) {
				t.Errorf("the CRL misses %s", first.Serial)
			}
			second := revoke(b)
			crl = both("revoked on B", 2)
			if !crlHas(crl, first.Serial) || !crlHas(crl, second.Serial) {
				t.Errorf("the CRL misses %s or %s", first.Serial, second.Serial)
			}
			number := crl.Number

			clk.Advance(time.Minute) // past CRLMaxAge: each looks in the store, nothing changed
			if crl = both("looked again", 2); crl.Number.Cmp(number) != 0 {
				t.Errorf("looked again: CRL number %v, want %v", crl.Number, number)
			}
			clk.Advance(12 * time.Hour) // past half of the CRL's 24 hours
			if crl = both("half its validity", 3); crl.Number.Cmp(number) <= 0 {
				t.Errorf("re-signed: CRL number %v, want above %v", crl.Number, number)
			}
			number = crl.Number

			// An instance that died holding the claim: the others serve the last CRL until
			// the claim runs out, then one signs.
			now := clk.Now()
			if ok, _, err := shared.ClaimCRL(ctx, int(fullCRL), "dead", now, now.Add(crlLease)); err != nil || !ok {
				t.Fatalf("claim as another instance: %v %v", ok, err)
			}
			third := revoke(a)
			crl = both("claimed elsewhere", 3)
			if crlHas(crl, third.Serial) || crl.Number.Cmp(number) != 0 {
				t.Errorf("claimed elsewhere: lists %s: %v, number %v; want the previous CRL %v", third.Serial, crlHas(crl, third.Serial), crl.Number, number)
			}
			clk.Advance(crlLease)
			if crl = both("claim ran out", 4); !crlHas(crl, third.Serial) {
				t.Errorf("claim ran out: the CRL misses %s", third.Serial)
			}
		})
	}
}
