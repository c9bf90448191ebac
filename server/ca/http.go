package ca

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
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
//	GET  /ca/crl           current CRL, DER (application/pkix-crl), every certificate
//	GET  /ca/crl/{p}       current CRL of partition p (0-f), the CDP of certificates
//	                       issued since the CRL was partitioned
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
			c.serveCRL(w, r, fullCRL)
		case len(path) == len("/ca/crl/0") && strings.HasPrefix(path, "/ca/crl/"):
			p, err := strconv.ParseUint(path[len("/ca/crl/"):], 16, 8)
			if err != nil || path[len(path)-1] != strconv.FormatUint(p, 16)[0] { // lower case only, as certificates name it
				http.NotFound(w, r)
				return
			}
			c.serveCRL(w, r, crlScope(p))
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

func (c *CA) serveCRL(w http.ResponseWriter, r *http.Request, scope crlScope) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	crl, err := c.currentCRL(r.Context(), scope)
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
	h := w.Header()
	h["Content-Type"] = []string{"application/ocsp-response"}
	switch {
	case resp.Nonce:
		// Bound to one request: no cache may keep it (RFC 5019 2.2).
		h.Set("Cache-Control", "no-store")
	case r.Method != http.MethodGet || resp.ThisUpdate.IsZero():
		// POST is for clients that want an answer, not a cached one; errors are not kept.
		h.Set("Cache-Control", "no-cache")
	default:
		ocspCacheHeaders(h, resp, c.cfg.Now())
		if notModified(r, resp) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(resp.DER))}
	w.Write(resp.DER)
}

// ocspCacheHeaders writes RFC 5019 6's headers for a GET answer. A good or revoked answer may be kept until its nextUpdate;
// an unknown one is revalidated every time (the serial may be a certificate being issued
// right now), which costs a 304 while it stays unknown.
func ocspCacheHeaders(h http.Header, resp ocspAnswer, now time.Time) {
	// Canonical names, assigned directly: this runs for every request.
	h["Etag"] = []string{resp.ETag}
	h["Last-Modified"] = []string{resp.LastModified}
	if resp.Status == ocsp.Unknown {
		h["Cache-Control"] = []string{"no-cache"}
		return
	}
	maxAge := max(0, int(resp.NextUpdate.Sub(now)/time.Second))
	h["Cache-Control"] = []string{"public, max-age=" + strconv.Itoa(maxAge) + ", no-transform, must-revalidate"}
	h["Expires"] = []string{resp.Expires}
}

// notModified reports whether the client already holds resp: If-None-Match names its
// ETag, or, without If-None-Match, If-Modified-Since is not before its thisUpdate.
func notModified(r *http.Request, resp ocspAnswer) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == resp.ETag || tag == "*" {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !t.Before(resp.ThisUpdate.Truncate(time.Second))
	}
	return false
}
