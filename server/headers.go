package server

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
)

// hstsMaxAge is one year, the lifetime HSTS preload lists ask for. includeSubDomains is
// left out: vscard is usually one host in an organisation's domain, and the hosts beside
// it are not ours to pin to https.
const hstsMaxAge = "max-age=31536000"

// securityHeaders is what every response tells the browser about how it may be used.
type securityHeaders struct {
	// hsts: the public URL is https, so browsers should never use plain http for it again.
	hsts bool
	// providerOrigins are where the identity provider lives (form-action), asked per
	// request because its sign-out endpoint is only known once discovery has run.
	providerOrigins func() []string
	// policy is the last policy built and the origins it was built for: they change at
	// most once (when discovery has run), so a response does not rebuild the string.
	policy atomic.Pointer[cachedPolicy]
}

type cachedPolicy struct {
	origins []string
	value   string
}

// csp returns the policy for origins, built once per set of origins.
func (p *securityHeaders) csp(origins []string) string {
	if c := p.policy.Load(); c != nil && slices.Equal(c.origins, origins) {
		return c.value
	}
	c := &cachedPolicy{origins: origins, value: contentSecurityPolicy(origins)}
	p.policy.Store(c)
	return c.value
}

// contentSecurityPolicy is the policy of the Self-Service app (playground included) and of
// every other response of the server. Each directive, and why:
//
//   - script-src 'self': only the app's own files run; no inline script, no eval. Vite's
//     build emits none (index.html loads one module file), and the playground's editor
//     (Monaco) runs its workers from same-origin files (worker-src 'self').
//   - style-src 'self' 'unsafe-inline': Mantine writes <style> elements at run time (its
//     CSS variables, responsive props), and Monaco both adds <style> elements and sets
//     style attributes through innerHTML. A nonce would cover Mantine's elements but none of
//     Monaco's (it sets no nonce, and nonces never apply to style attributes), and the app
//     and the playground are one document. CSS runs no script; with scripts confined to
//     'self' and React escaping all text, what is left is CSS injection, which needs an
//     HTML injection point the app does not have.
//   - img-src 'self' data:, font-src 'self' data:: Mantine's and Monaco's style sheets
//     draw small icons as data: SVGs, and GraphiQL's carries its fonts (and Monaco's icon
//     font) as data: URLs. Neither images nor fonts run script.
//   - connect-src 'self': the API over fetch, and its WebSocket, which CSP3 lets 'self'
//     match (ws: for an http page, wss: for https; Chromium does).
//   - object-src 'none', base-uri 'none': no plugins, no <base> to re-point relative URLs.
//   - form-action 'self' plus the provider: sign-out is a form post answered with a
//     redirect to the provider's end_session_endpoint, and Chromium checks form-action on
//     that redirect too (tried: with 'self' alone, the redirect is blocked).
//   - frame-ancestors 'none': no page may frame the app (clickjacking); X-Frame-Options
//     says the same to older browsers.
func contentSecurityPolicy(providerOrigins []string) string {
	formAction := "form-action 'self'"
	for _, o := range providerOrigins {
		formAction += " " + o
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src 'self'",
		"worker-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		formAction,
		"frame-ancestors 'none'",
	}, "; ")
}

func (p *securityHeaders) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if p.hsts {
			h.Set("Strict-Transport-Security", hstsMaxAge)
		}
		// The development provider's pages set a policy of their own (devidp/login.go).
		if !strings.HasPrefix(r.URL.Path, "/dev/idp") {
			var origins []string
			if p.providerOrigins != nil {
				origins = p.providerOrigins()
			}
			h.Set("Content-Security-Policy", p.csp(origins))
			h.Set("X-Frame-Options", "DENY")
		}
		next.ServeHTTP(w, r)
	})
}
