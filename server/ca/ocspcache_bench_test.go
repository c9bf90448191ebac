package ca

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/events"
)

// BenchmarkOCSPFromMemory is the CA's share of a GET answered from memory: decoding and
// parsing the request, finding the response, writing the headers.
func BenchmarkOCSPFromMemory(b *testing.B) {
	tc := newTestCA(b, nil)
	ctx := b.Context()
	tc.Follow(ctx, events.NewLocal())
	<-tc.OCSPFilterLoaded()
	got, err := tc.Issue(ctx, authRequest(makeCSR(b, newP256(b)), tc.clock.Now().Add(24*3600e9)))
	if err != nil {
		b.Fatal(err)
	}
	reqDER, _ := ocsp.CreateRequest(got.Certificate, tc.issuing, nil)
	path := "/ca/ocsp/" + base64.StdEncoding.EncodeToString(reqDER)
	h := tc.Handler()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkOCSPUnknown is the CA's share of a GET for a random serial it never issued:
// the filter says so without a read, and the answer is signed.
func BenchmarkOCSPUnknown(b *testing.B) {
	tc := newTestCA(b, nil)
	tc.Follow(b.Context(), events.NewLocal())
	<-tc.OCSPFilterLoaded()
	paths := make([]string, b.N)
	for i := range paths {
		s, _ := rand.Int(rand.Reader, serialLimit)
		reqDER, _ := ocsp.CreateRequest(&x509.Certificate{SerialNumber: s.Add(s, big.NewInt(1))}, tc.issuing, nil)
		paths[i] = "/ca/ocsp/" + base64.StdEncoding.EncodeToString(reqDER)
	}
	h := tc.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, paths[i], nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
