package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// get fetches path from a test server on tc's handler.
func get(t *testing.T, tc *testCA, path string) *http.Response {
	t.Helper()
	srv := httptest.NewServer(tc.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fetchCRL gets /ca/crl and checks its type and signature.
func fetchCRL(t *testing.T, tc *testCA) *x509.RevocationList {
	t.Helper()
	resp := get(t, tc, "/ca/crl")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET /ca/crl: %s, %s: %s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil {
		t.Fatalf("parse CRL: %v", err)
	}
	if err := crl.CheckSignatureFrom(tc.issuing); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl
}

func crlEntry(crl *x509.RevocationList, serial string) *x509.RevocationListEntry {
	for i, e := range crl.RevokedCertificateEntries {
		if formatSerial(e.SerialNumber) == serial {
			return &crl.RevokedCertificateEntries[i]
		}
	}
	return nil
}

func crlHas(crl *x509.RevocationList, serial string) bool { return crlEntry(crl, serial) != nil }

// queryOCSP asks the responder about cert by POST or GET and checks the signature.
func queryOCSP(t *testing.T, tc *testCA, cert *x509.Certificate, method string) *ocsp.Response {
	t.Helper()
	reqDER, err := ocsp.CreateRequest(cert, tc.issuing, nil)
	if err != nil {
		t.Fatalf("create OCSP request: %v", err)
	}
	srv := httptest.NewServer(tc.Handler())
	defer srv.Close()
	var resp *http.Response
	if method == http.MethodPost {
		resp, err = http.Post(srv.URL+"/ca/ocsp", "application/ocsp-request", bytes.NewReader(reqDER))
	} else {
		resp, err = http.Get(srv.URL + "/ca/ocsp/" + base64.StdEncoding.EncodeToString(reqDER))
	}
	if err != nil {
		t.Fatalf("%s /ca/ocsp: %v", method, err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("%s /ca/ocsp: %s %s", method, resp.Status, resp.Header.Get("Content-Type"))
	}
	r, err := ocsp.ParseResponseForCert(body, cert, tc.issuing)
	if err != nil {
		t.Fatalf("parse OCSP response (checks the signature): %v", err)
	}
	return r
}

func TestRevocationOverHTTP(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	issue := func() *Issued {
		t.Helper()
		got, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(24*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	good, revoked, held := issue(), issue(), issue()
	before := fetchCRL(t, tc)
	if len(before.RevokedCertificateEntries) != 0 {
		t.Fatalf("fresh CRL lists %d certificates", len(before.RevokedCertificateEntries))
	}

	revokedAt := tc.clock.Now()
	if err := tc.Revoke(ctx, revoked.Serial, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if err := tc.Revoke(ctx, strings.ToUpper(held.Serial), ocsp.CertificateHold); err != nil {
		t.Fatal(err)
	}
	unknown := &x509.Certificate{SerialNumber: new(big.Int).Lsh(big.NewInt(1), 100)}

	crl := fetchCRL(t, tc)
	if crl.Number.Cmp(before.Number) <= 0 {
		t.Errorf("CRL number %v did not increase from %v", crl.Number, before.Number)
	}
	if !crl.NextUpdate.Equal(crl.ThisUpdate.Add(24 * time.Hour)) {
		t.Errorf("CRL thisUpdate %v nextUpdate %v", crl.ThisUpdate, crl.NextUpdate)
	}
	if e := crlEntry(crl, revoked.Serial); e == nil || e.ReasonCode != ocsp.KeyCompromise || !e.RevocationTime.Equal(revokedAt) {
		t.Errorf("CRL entry for the revoked certificate: %+v", e)
	}
	if e := crlEntry(crl, held.Serial); e == nil || e.ReasonCode != ocsp.CertificateHold {
		t.Errorf("CRL entry for the held certificate: %+v", e)
	}
	if crlHas(crl, good.Serial) {
		t.Error("CRL lists the good certificate")
	}

	tests := []struct {
		name   string
		cert   *x509.Certificate
		status int
		reason int
	}{
		{"ok/good", good.Certificate, ocsp.Good, 0},
		{"ok/revoked", revoked.Certificate, ocsp.Revoked, ocsp.KeyCompromise},
		{"ok/on-hold", held.Certificate, ocsp.Revoked, ocsp.CertificateHold},
		{"ok/unknown", unknown, ocsp.Unknown, 0},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				r := queryOCSP(t, tc, tt.cert, method)
				if r.Status != tt.status || r.SerialNumber.Cmp(tt.cert.SerialNumber) != 0 {
					t.Fatalf("status %d serial %v, want %d %v", r.Status, r.SerialNumber, tt.status, tt.cert.SerialNumber)
				}
				if tt.status == ocsp.Revoked && (r.RevocationReason != tt.reason || !r.RevokedAt.Equal(revokedAt)) {
					t.Errorf("revoked at %v reason %d, want %v %d", r.RevokedAt, r.RevocationReason, revokedAt, tt.reason)
				}
				if !r.ThisUpdate.Equal(tc.clock.Now()) || !r.NextUpdate.Equal(r.ThisUpdate.Add(time.Hour)) {
					t.Errorf("thisUpdate %v nextUpdate %v", r.ThisUpdate, r.NextUpdate)
				}
			})
		}
	}

	t.Run("ok/release-from-hold", func(t *testing.T) {
		if err := tc.Revoke(ctx, held.Serial, ocsp.RemoveFromCRL); err != nil {
			t.Fatal(err)
		}
		if r := queryOCSP(t, tc, held.Certificate, http.MethodPost); r.Status != ocsp.Good {
			t.Errorf("OCSP status after release = %d, want good", r.Status)
		}
		after := fetchCRL(t, tc)
		if crlHas(after, held.Serial) || !crlHas(after, revoked.Serial) || after.Number.Cmp(crl.Number) <= 0 {
			t.Errorf("CRL after release: number %v, entries %d", after.Number, len(after.RevokedCertificateEntries))
		}
	})
}

// TestOCSPGetWithSlashes sends a GET whose base64 holds "//", which a path-cleaning
// router would redirect away.
func TestOCSPGetWithSlashes(t *testing.T) {
	tc := newTestCA(t, nil)
	for i := int64(1); i < 100000; i++ {
		cert := &x509.Certificate{SerialNumber: big.NewInt(i)}
		der, err := ocsp.CreateRequest(cert, tc.issuing, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(base64.StdEncoding.EncodeToString(der), "//") {
			if r := queryOCSP(t, tc, cert, http.MethodGet); r.Status != ocsp.Unknown {
				t.Errorf("status %d, want unknown", r.Status)
			}
			return
		}
	}
	t.Skip("no request with // in its base64")
}

func TestOCSPErrors(t *testing.T) {
	tc := newTestCA(t, nil)
	other := newTestCA(t, nil) // another CA: requests about its certificates are not ours
	srv := httptest.NewServer(tc.Handler())
	defer srv.Close()

	foreignReq, err := ocsp.CreateRequest(other.issuing, other.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		do     func() (*http.Response, error)
		status int // HTTP
		ocsp   ocsp.ResponseStatus
	}{
		{"error/malformed-post", func() (*http.Response, error) {
			return http.Post(srv.URL+"/ca/ocsp", "application/ocsp-request", strings.NewReader("garbage"))
		}, http.StatusOK, ocsp.Malformed},
		{"error/malformed-get", func() (*http.Response, error) {
			return http.Get(srv.URL + "/ca/ocsp/not!base64")
		}, http.StatusOK, ocsp.Malformed},
		{"error/other-issuer", func() (*http.Response, error) {
			return http.Post(srv.URL+"/ca/ocsp", "application/ocsp-request", bytes.NewReader(foreignReq))
		}, http.StatusOK, ocsp.Unauthorized},
		{"error/wrong-content-type", func() (*http.Response, error) {
			return http.Post(srv.URL+"/ca/ocsp", "text/plain", bytes.NewReader(foreignReq))
		}, http.StatusUnsupportedMediaType, 0},
		{"error/too-large", func() (*http.Response, error) {
			return http.Post(srv.URL+"/ca/ocsp", "application/ocsp-request", bytes.NewReader(make([]byte, maxOCSPRequest+1)))
		}, http.StatusRequestEntityTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.do()
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %s, want %d", resp.Status, tt.status)
			}
			if tt.ocsp == 0 {
				return
			}
			_, err = ocsp.ParseResponse(body, nil)
			if re, ok := err.(ocsp.ResponseError); !ok || re.Status != tt.ocsp {
				t.Errorf("parse response: %v, want OCSP status %v", err, tt.ocsp)
			}
		})
	}
}

func TestCertificateRoutes(t *testing.T) {
	tc := newTestCA(t, nil)
	tests := []struct {
		name, path, contentType string
		want                    []*x509.Certificate
		status                  int
	}{
		{"ok/root", "/ca/root.crt", "application/pkix-cert", []*x509.Certificate{tc.root}, http.StatusOK},
		{"ok/issuing", "/ca/issuing.crt", "application/pkix-cert", []*x509.Certificate{tc.issuing}, http.StatusOK},
		{"ok/chain", "/ca/chain.pem", "application/x-pem-file", []*x509.Certificate{tc.issuing, tc.root}, http.StatusOK},
		{"error/unknown-path", "/ca/nothing", "", nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, tc, tt.path)
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s: %s", tt.path, resp.Status)
			}
			if tt.status != http.StatusOK {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			var got [][]byte
			if strings.HasSuffix(tt.path, ".pem") {
				for block, rest := pem.Decode(body); block != nil; block, rest = pem.Decode(rest) {
					got = append(got, block.Bytes)
				}
			} else {
				got = [][]byte{body}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d certificates, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i].Raw) {
					t.Errorf("certificate %d differs", i)
				}
			}
		})
	}
	t.Run("error/post-crl", func(t *testing.T) {
		srv := httptest.NewServer(tc.Handler())
		defer srv.Close()
		resp, err := http.Post(srv.URL+"/ca/crl", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /ca/crl: %s", resp.Status)
		}
	})
}
