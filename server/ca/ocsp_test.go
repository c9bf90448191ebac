package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspRequestWith builds an OCSP request for cert with extra requestExtensions, as a
// client other than x/crypto (which writes none) would.
func ocspRequestWith(t testing.TB, tc *testCA, cert *x509.Certificate, exts ...pkix.Extension) []byte {
	t.Helper()
	plain, err := ocsp.CreateRequest(cert, tc.issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		TBS struct{ RequestList asn1.RawValue }
	}
	if _, err := asn1.Unmarshal(plain, &in); err != nil {
		t.Fatal(err)
	}
	var out struct {
		TBS struct {
			RequestList asn1.RawValue
			Extensions  []pkix.Extension `asn1:"explicit,tag:2,optional"`
		}
	}
	out.TBS.RequestList, out.TBS.Extensions = in.TBS.RequestList, exts
	der, err := asn1.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func nonceExt(t testing.TB, nonce []byte) pkix.Extension {
	t.Helper()
	v, err := asn1.Marshal(nonce)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidOCSPNonce, Value: v}
}

// responseExtensions reads the responseExtensions of a successful DER OCSP response.
func responseExtensions(t *testing.T, der []byte) []pkix.Extension {
	t.Helper()
	var outer struct {
		Status   asn1.Enumerated
		Response struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct {
		TBS struct {
			Version     int `asn1:"optional,default:0,explicit,tag:0"`
			ResponderID asn1.RawValue
			ProducedAt  time.Time `asn1:"generalized"`
			Responses   asn1.RawValue
			Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
		}
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatalf("decode OCSP response: %v", err)
	}
	if _, err := asn1.Unmarshal(outer.Response.Response, &basic); err != nil {
		t.Fatalf("decode basic OCSP response: %v", err)
	}
	return basic.TBS.Extensions
}

// askOCSP sends reqDER by POST or GET and returns the HTTP response and its body.
func askOCSP(t *testing.T, srv *httptest.Server, method string, reqDER []byte) (*http.Response, []byte) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = http.Post(srv.URL+"/ca/ocsp", "application/ocsp-request", bytes.NewReader(reqDER))
	} else {
		resp, err = http.Get(srv.URL + "/ca/ocsp/" + base64.StdEncoding.EncodeToString(reqDER))
	}
	if err != nil {
		t.Fatalf("%s /ca/ocsp: %v", method, err)
	}
	return resp, readAll(t, resp)
}

// TestOCSPNonce: a request's nonce comes back byte for byte in a signed response that no
// cache may keep; a nonce outside RFC 9654's 1..128 octets, or not an OCTET STRING, is a
// malformedRequest; other extensions do no harm.
func TestOCSPNonce(t *testing.T) {
	tc := newTestCA(t, nil)
	got, err := tc.Issue(context.Background(), authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tc.Handler())
	defer srv.Close()
	nonceOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		return b
	}
	other := pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{0xde, 0xad}}

	tests := []struct {
		name  string
		exts  []pkix.Extension
		nonce []byte // wanted back; nil: no nonce in the response
		want  ocsp.ResponseStatus
	}{
		{name: "ok/no-nonce"},
		{name: "ok/nonce-1", exts: []pkix.Extension{nonceExt(t, nonceOf(1))}, nonce: nonceOf(1)},
		{name: "ok/nonce-16-openssl-default", exts: []pkix.Extension{nonceExt(t, nonceOf(16))}, nonce: nonceOf(16)},
		{name: "ok/nonce-32", exts: []pkix.Extension{nonceExt(t, nonceOf(32))}, nonce: nonceOf(32)},
		{name: "ok/nonce-33-allowed-since-rfc9654", exts: []pkix.Extension{nonceExt(t, nonceOf(33))}, nonce: nonceOf(33)},
		{name: "ok/nonce-128", exts: []pkix.Extension{nonceExt(t, nonceOf(128))}, nonce: nonceOf(128)},
		{name: "ok/nonce-among-other-extensions", exts: []pkix.Extension{other, nonceExt(t, nonceOf(32))}, nonce: nonceOf(32)},
		{name: "ok/unknown-noncritical-extension-ignored", exts: []pkix.Extension{other}},
		{name: "error/nonce-empty", exts: []pkix.Extension{nonceExt(t, []byte{})}, want: ocsp.Malformed},
		{name: "error/nonce-129", exts: []pkix.Extension{nonceExt(t, nonceOf(129))}, want: ocsp.Malformed},
		{name: "error/nonce-4096", exts: []pkix.Extension{nonceExt(t, nonceOf(4096))}, want: ocsp.Malformed},
		{name: "error/nonce-not-an-octet-string", exts: []pkix.Extension{{Id: oidOCSPNonce, Value: nonceOf(16)}}, want: ocsp.Malformed},
		{name: "error/nonce-trailing-bytes", exts: []pkix.Extension{{Id: oidOCSPNonce, Value: append(nonceExt(t, nonceOf(16)).Value, 0)}}, want: ocsp.Malformed},
		{name: "error/nonce-twice", exts: []pkix.Extension{nonceExt(t, nonceOf(16)), nonceExt(t, nonceOf(16))}, want: ocsp.Malformed},
		{name: "error/unknown-critical-extension", exts: []pkix.Extension{{Id: other.Id, Critical: true, Value: other.Value}}, want: ocsp.Malformed},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				resp, body := askOCSP(t, srv, method, ocspRequestWith(t, tc, got.Certificate, tt.exts...))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("HTTP %s", resp.Status)
				}
				if tt.want != ocsp.Success {
					if _, err := ocsp.ParseResponse(body, nil); err != (ocsp.ResponseError{Status: tt.want}) {
						t.Fatalf("parse response: %v, want OCSP status %v", err, tt.want)
					}
					return
				}
				r, err := ocsp.ParseResponseForCert(body, got.Certificate, tc.issuing)
				if err != nil {
					t.Fatalf("parse OCSP response (checks the signature): %v", err)
				}
				if r.Status != ocsp.Good {
					t.Errorf("status %d, want good", r.Status)
				}
				exts := responseExtensions(t, body)
				cache := resp.Header.Get("Cache-Control")
				if tt.nonce == nil {
					// GET may be cached until nextUpdate (RFC 5019); POST is not cached.
					want := "no-cache"
					if method == http.MethodGet {
						want = "public, max-age=3600, no-transform, must-revalidate"
					}
					if len(exts) != 0 || cache != want {
						t.Errorf("response extensions %v, Cache-Control %q; want none and %q", exts, cache, want)
					}
					return
				}
				if len(exts) != 1 || !exts[0].Id.Equal(oidOCSPNonce) || exts[0].Critical ||
					!bytes.Equal(exts[0].Value, nonceExt(t, tt.nonce).Value) {
					t.Errorf("response extensions %+v, want the nonce %x", exts, tt.nonce)
				}
				if cache != "no-store" {
					t.Errorf("Cache-Control %q for a nonce response, want no-store", cache)
				}
			})
		}
	}
}

// TestOCSPBounds: a GET longer than a POST may be is refused before decoding, and the
// largest POST full of extensions costs little CPU.
func TestOCSPBounds(t *testing.T) {
	tc := newTestCA(t, nil)
	got, err := tc.Issue(context.Background(), authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tc.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/ca/ocsp/" + strings.Repeat("A", maxOCSPPath+4))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("over-long GET: %s, want 414", resp.Status)
	}

	// 800 tiny extensions and a nonce: just under the body limit.
	var exts []pkix.Extension
	for i := range 800 {
		exts = append(exts, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, i}, Value: []byte{0}})
	}
	exts = append(exts, nonceExt(t, make([]byte, 32)))
	reqDER := ocspRequestWith(t, tc, got.Certificate, exts...)
	if len(reqDER) > maxOCSPRequest || len(reqDER) < maxOCSPRequest*3/4 {
		t.Fatalf("request is %d bytes; make it just under %d", len(reqDER), maxOCSPRequest)
	}
	const n = 50
	before := cpuTime(t)
	for range n {
		resp, body := askOCSP(t, srv, http.MethodPost, reqDER)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %s", resp.Status)
		}
		if _, err := ocsp.ParseResponseForCert(body, got.Certificate, tc.issuing); err != nil {
			t.Fatalf("a request full of extensions: %v", err)
		}
	}
	// Measured: ~3 ms of CPU each on a shared 2-core machine, HTTP and parsing the response included.
	per := (cpuTime(t) - before) / n
	t.Logf("%d-byte request, %d extensions: %v CPU each", len(reqDER), len(exts), per)
	if per > 20*time.Millisecond {
		t.Errorf("a %d-byte request with %d extensions costs %v of CPU", len(reqDER), len(exts), per)
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestOCSPWithOpenSSL asks the responder with the openssl client, with and without a
// nonce: openssl verifies the response against the root and checks the nonce itself.
func TestOCSPWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	tc := newTestCA(t, nil)
	ctx := context.Background()
	good, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	lost, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Revoke(ctx, lost.Serial, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tc.Handler())
	defer srv.Close()
	dir := t.TempDir()
	write := func(name string, certs ...*x509.Certificate) string {
		var b bytes.Buffer
		for _, c := range certs {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issuer, root := write("issuing.pem", tc.issuing), write("root.pem", tc.root)
	tests := []struct {
		name, cert, nonce, want string
	}{
		{"ok/good-nonce", write("good.pem", good.Certificate), "-nonce", ": good"},
		{"ok/good-no-nonce", filepath.Join(dir, "good.pem"), "-no_nonce", ": good"},
		{"ok/revoked-nonce", write("lost.pem", lost.Certificate), "-nonce", "Reason: keyCompromise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(openssl, "ocsp", "-issuer", issuer, "-CAfile", root, "-verify_other", issuer,
				"-cert", tt.cert, "-url", srv.URL+"/ca/ocsp", tt.nonce, "-resp_text")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("openssl ocsp: %v\n%s", err, out)
			}
			s := string(out)
			if !strings.Contains(s, "Response verify OK") || !strings.Contains(s, tt.want) {
				t.Errorf("openssl ocsp did not verify %q:\n%s", tt.want, s)
			}
			if strings.Contains(s, "WARNING") || strings.Contains(s, "nonce") && !strings.Contains(s, "OCSP Nonce") {
				t.Errorf("openssl warns:\n%s", s)
			}
			if tt.nonce == "-nonce" && strings.Count(s, "OCSP Nonce") != 1 {
				t.Errorf("want the nonce in the response extensions:\n%s", s)
			}
		})
	}
}
