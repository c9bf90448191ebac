package ca

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxOCSPRequest bounds OCSP request bodies; a request for one certificate is ~100 bytes,
// ~250 with a nonce of RFC 9654's largest size.
const maxOCSPRequest = 10 << 10

// maxOCSPPath bounds the escaped base64 of a GET request to what a POST may send: base64
// of maxOCSPRequest, each character possibly percent-escaped.
var maxOCSPPath = 3 * base64.StdEncoding.EncodedLen(maxOCSPRequest)

// Handler serves the CA's public endpoints at their full paths (mount it at "/ca/"
// without stripping the prefix):
//
//	GET  /ca/root.crt      root CA certificate, DER (application/pkix-cert)
//	GET  /ca/issuing.crt   issuing CA certificate, DER (the AIA caIssuers URL)
//	GET  /ca/chain.pem     issuing CA then root, PEM (application/x-pem-file)
//	GET  /ca/crl           current CRL, DER (application/pkix-crl)
//	POST /ca/ocsp          OCSP request in the body (application/ocsp-request)
//	GET  /ca/ocsp/{base64} OCSP request, base64 (RFC 6960 A.1)
//
// The handler does its own routing: base64 may contain "//", which http.ServeMux would
// clean away with a redirect. A server whose outer mux cleans paths still serves POST.
func (c *CA) Handler() http.Handler {
	var chain bytes.Buffer
	for _, cert := range c.Chain() {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/ca/root.crt":
			c.serveStatic(w, r, "application/pkix-cert", c.root.Raw)
		case path == "/ca/issuing.crt":
			c.serveStatic(w, r, "application/pkix-cert", c.issuing.Raw)
		case path == "/ca/chain.pem":
			c.serveStatic(w, r, "application/x-pem-file", chain.Bytes())
		case path == "/ca/crl":
			c.serveCRL(w, r)
		case path == "/ca/ocsp" || strings.HasPrefix(path, "/ca/ocsp/"):
			c.serveOCSP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func (c *CA) serveStatic(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (c *CA) serveCRL(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	crl, err := c.currentCRL(r.Context())
	if err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "serve CRL", "err", err)
		http.Error(w, "the CRL is unavailable; try again later", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	// Revalidate every time: a revocation re-signs the CRL before its nextUpdate.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", fmt.Sprintf(`"%s"`, crl.Number.Text(16)))
	http.ServeContent(w, r, "", crl.ThisUpdate, bytes.NewReader(crl.DER))
}

func (c *CA) serveOCSP(w http.ResponseWriter, r *http.Request) {
	var reqDER []byte
	switch r.Method {
	case http.MethodPost:
		if r.URL.Path != "/ca/ocsp" {
			http.NotFound(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/ocsp-request" {
			http.Error(w, "send the OCSP request with Content-Type application/ocsp-request", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOCSPRequest))
		if err != nil {
			http.Error(w, "the OCSP request is too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		reqDER = body
	case http.MethodGet:
		// Use the raw path: clients may or may not escape the base64.
		enc := strings.TrimPrefix(r.URL.EscapedPath(), "/ca/ocsp/")
		if enc == r.URL.EscapedPath() || enc == "" {
			http.Error(w, "put the base64 OCSP request after /ca/ocsp/, or POST it", http.StatusBadRequest)
			return
		}
		if len(enc) > maxOCSPPath {
			http.Error(w, "the OCSP request is too long for a GET", http.StatusRequestURITooLong)
			return
		}
		unescaped, err := url.PathUnescape(enc)
		if err == nil {
			reqDER, err = base64.StdEncoding.DecodeString(unescaped)
		}
		if err != nil {
			reqDER = nil // answered in-band as malformedRequest
		}
	default:
		allow(w, r, http.MethodGet, http.MethodPost)
		return
	}
	resp, err := c.respondOCSP(r.Context(), reqDER)
	if err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "answer OCSP request", "err", err)
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	if resp.Nonce {
		// Bound to one request: no cache may keep it (RFC 5019 2.2).
		w.Header().Set("Cache-Control", "no-store")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(resp.DER)))
	w.Write(resp.DER)
}
