package ca

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/events"
)

// TestCRLPartitions: a certificate's CRL distribution point is one of 16 partitions,
// which lists it once revoked and says (in a critical issuing distribution point) that it
// covers only the certificates pointing at it; the whole CRL still lists everything; an
// unchanged CRL revalidates with a 304; another instance on the same bus re-signs at once.
func TestCRLPartitions(t *testing.T) {
	bus := events.NewLocal()
	a := newFollowing(t, bus, nil)
	b := newFollowing(t, bus, a)
	ctx := context.Background()
	fetch := func(f *following, path string, header http.Header) (*http.Response, *x509.RevocationList) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			return resp, nil
		}
		crl, err := x509.ParseRevocationList(body)
		if err != nil {
			t.Fatalf("parse CRL %s: %v", path, err)
		}
		if err := crl.CheckSignatureFrom(f.issuing); err != nil {
			t.Fatalf("CRL %s signature: %v", path, err)
		}
		return resp, crl
	}

	var revoked []*Issued
	for range 6 {
		got := a.issue(t)
		if err := a.Revoke(ctx, got.Serial, ocsp.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, got)
	}
	for _, got := range revoked {
		cdp, err := url.Parse(got.Certificate.CRLDistributionPoints[0])
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]*following{"A": a, "B": b} {
			_, crl := fetch(f, cdp.Path, nil)
			if !crlHas(crl, got.Serial) {
				t.Errorf("%s: partition %s does not list %s", name, cdp.Path, got.Serial)
			}
			for _, e := range crl.RevokedCertificateEntries {
				if p := partitionOf(formatSerial(e.SerialNumber)); cdp.Path != "/ca/crl/"+p.suffix() {
					t.Errorf("%s: partition %s lists %x, of partition %s", name, cdp.Path, e.SerialNumber, p.suffix())
				}
			}
			var idp bool
			for _, ext := range crl.Extensions {
				if ext.Id.Equal(oidIssuingDistributionPoint) && ext.Critical {
					want, _ := issuingDistributionPoint(got.Certificate.CRLDistributionPoints[0])
					idp = string(ext.Value) == string(want.Value)
				}
			}
			if !idp {
				t.Errorf("%s: partition %s has no critical issuing distribution point naming it", name, cdp.Path)
			}
		}
	}
	_, full := fetch(b, "/ca/crl", nil)
	for _, got := range revoked {
		if !crlHas(full, got.Serial) {
			t.Errorf("the whole CRL misses %s", got.Serial)
		}
	}

	t.Run("ok/304", func(t *testing.T) {
		path := "/ca/crl/" + partitionOf(revoked[0].Serial).suffix()
		resp, _ := fetch(a, path, nil)
		etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" || modified == "" {
			t.Fatalf("CRL headers %v: want ETag and Last-Modified", resp.Header)
		}
		if resp, _ := fetch(a, path, http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET with the ETag: %s, want 304", resp.Status)
		}
		if resp, _ := fetch(a, path, http.Header{"If-Modified-Since": {modified}}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET with Last-Modified: %s, want 304", resp.Status)
		}
		// A revocation in this partition makes a new CRL, and the old ETag a 200.
		a.clock.Advance(time.Second)
		var same *Issued
		for same == nil {
			if got := a.issue(t); partitionOf(got.Serial) == partitionOf(revoked[0].Serial) {
				same = got
			}
		}
		if err := b.Revoke(ctx, same.Serial, ocsp.Superseded); err != nil {
			t.Fatal(err)
		}
		resp, crl := fetch(a, path, http.Header{"If-None-Match": {etag}})
		if resp.StatusCode != http.StatusOK || !crlHas(crl, same.Serial) {
			t.Errorf("after a revocation on B, A's partition: %s, lists it: %v", resp.Status, crl != nil && crlHas(crl, same.Serial))
		}
	})
	t.Run("error/no-such-partition", func(t *testing.T) {
		for _, path := range []string{"/ca/crl/g", "/ca/crl/A", "/ca/crl/10", "/ca/crl/"} {
			if resp, _ := fetch(a, path, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %s, want 404", path, resp.Status)
			}
		}
	})
}
