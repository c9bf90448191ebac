package auth

import (
	"errors"
	"mime"
	"net/http"
	"slices"
)

// checkCSRF refuses cross-site requests that ride on the session cookie.
//
// Safe methods (GET, HEAD, OPTIONS) pass: they never change anything (the GraphQL handler
// accepts only queries over GET). A state-changing request that carries the session
// cookie must be something a cross-site HTML form cannot send: Content-Type
// application/json, or an X-Requested-With or X-CSRF header (both force a CORS
// preflight). Any state-changing request with an Origin header must come from an allowed
// origin.
//
// Sign-out (POST /auth/logout) is a plain HTML form, posted as a top-level navigation so
// that the answer's redirect to the provider is followed by the browser and never read by
// script. Browsers send Origin with every form POST; for sign-out an allowed Origin is
// required and is enough.
//
// Go's http.CrossOriginProtection is not used: it lets through a state-changing request
// with neither Origin nor Sec-Fetch-Site (it takes it for same-origin or not a browser), so
// a cookie-carrying form, multipart or text/plain POST, or a sign-out form, without Origin
// would pass, which TestCSRF refuses; and it trusts any Origin whose host is the request's
// Host rather than only the configured origins.
func (s *Service) checkCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin != "" && !s.originAllowed(origin) {
		return errors.New("origin not allowed")
	}
	if r.Method == http.MethodPost && r.URL.Path == logoutPath && origin != "" {
		return nil // allowed above
	}
	if _, err := r.Cookie(s.sessions.Cookie.Name); err != nil {
		return nil // no cookie, no ambient authority to abuse
	}
	if r.Header.Get("X-Requested-With") != "" || r.Header.Get("X-CSRF") != "" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "application/json" {
		return nil
	}
	return errors.New("cookie-authenticated request without JSON content type or CSRF header")
}

// CheckOrigin reports whether a WebSocket upgrade may be accepted: from an allowed origin,
// or without an Origin header (not a browser, so no ambient cookie to abuse: such clients
// authenticate in connection_init).
func (s *Service) CheckOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || s.originAllowed(origin)
}

// AllowedOrigins returns the configured origins, e.g. for a WebSocket library's own
// origin patterns.
func (s *Service) AllowedOrigins() []string { return slices.Clone(s.cfg.AllowedOrigins) }

func (s *Service) originAllowed(origin string) bool {
	return slices.Contains(s.cfg.AllowedOrigins, origin)
}
