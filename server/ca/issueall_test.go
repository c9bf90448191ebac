package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// revokeBeforeMark revokes the first record after it was reserved and before the signed
// certificates are recorded: a cancel that came while the CA signed.
type revokeBeforeMark struct {
	*EntStore
	ca *CA
}

func (r *revokeBeforeMark) MarkAllIssued(ctx context.Context, recs []*Record) error {
	if err := r.ca.Revoke(ctx, recs[0].Serial, 4); err != nil {
		return err
	}
	return r.EntStore.MarkAllIssued(ctx, recs)
}

// TestIssueAll: several certificates in one go, on every backend (the batch statements
// differ from Issue's): each recorded VALID with the DER handed out; a refused request
// leaves no record and nothing signed; a record revoked while the batch was signed keeps
// its state and gets its DER.
func TestIssueAll(t *testing.T) {
	for name, dsn := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			ctx := viewer.AsServer(context.Background())
			db, err := store.Open(ctx, dsn(t), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			clk := newClock()
			open := func(s Store) *CA {
				c, err := Open(t.TempDir(), testConfig(clk), s)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			count := func() int { return db.Client.CaRecord.Query().CountX(ctx) }
			inAYear := clk.Now().Add(365 * 24 * time.Hour)
			sig := authRequest(makeCSR(t, newP256(t)), inAYear)
			sig.Template = cardspec.Signature
			reqs := []IssueRequest{authRequest(makeCSR(t, newP256(t)), inAYear), sig}

			t.Run("ok/all recorded VALID with their DER", func(t *testing.T) {
				c := open(NewEntStore(db.Client))
				issued, err := c.IssueAll(ctx, reqs)
				if err != nil || len(issued) != 2 || issued[0].Serial == issued[1].Serial {
					t.Fatalf("IssueAll = %v, %v", issued, err)
				}
				for _, is := range issued {
					rec, err := c.store.Get(ctx, is.Serial)
					if err != nil || rec.State != StatusValid || !bytes.Equal(rec.DER, is.DER) {
						t.Fatalf("record of %s: %+v, %v", is.Serial, rec, err)
					}
					if _, err := is.Certificate.Verify(x509.VerifyOptions{
						Roots: pool(c.Chain()[1]), Intermediates: pool(c.Chain()[0]),
						KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: clk.Now(),
					}); err != nil {
						t.Errorf("certificate %s does not chain: %v", is.Serial, err)
					}
				}
			})
			t.Run("error/one refused, nothing recorded", func(t *testing.T) {
				c := open(NewEntStore(db.Client))
				before := count()
				bad := reqs[1]
				bad.CSR = []byte("not a CSR")
				issued, err := c.IssueAll(ctx, []IssueRequest{reqs[0], bad})
				wantCode(t, err, errs.InvalidInput)
				if len(issued) != 0 || count() != before {
					t.Fatalf("a refused batch issued %d and left %d records", len(issued), count()-before)
				}
			})
			t.Run("ok/revoked while signing keeps its state", func(t *testing.T) {
				r := &revokeBeforeMark{EntStore: NewEntStore(db.Client)}
				c := open(r)
				r.ca = c
				issued, err := c.IssueAll(ctx, reqs)
				if err != nil || len(issued) != 2 {
					t.Fatalf("IssueAll = %v, %v", issued, err)
				}
				want := []Status{StatusRevoked, StatusValid}
				for i, is := range issued {
					rec, err := c.store.Get(ctx, is.Serial)
					if err != nil || rec.State != want[i] || !bytes.Equal(rec.DER, is.DER) {
						t.Errorf("record %d: %s with %d bytes of DER, %v; want %s with the DER", i, rec.State, len(rec.DER), err, want[i])
					}
				}
			})
		})
	}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
