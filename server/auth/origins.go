package auth

import "slices"

// ProviderOrigins are the origins of the identity provider that a form on this server's
// pages may end up at: its issuer and, once discovery has happened, its
// end_session_endpoint (sign-out posts to /auth/logout, answered with a redirect there).
// The page's Content-Security-Policy lists them in form-action, because Chromium applies
// form-action to the redirects after a form submission too. It never discovers: a header
// must not wait for the provider, and no one signs out before discovery (at sign-in).
func (s *Service) ProviderOrigins() []string {
	if o := s.origins.Load(); o != nil {
		return *o
	}
	var origins []string
	add := func(raw string) {
		if o := originOf(raw); o != "" && !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	add(s.cfg.Issuer)
	if eps := s.provider.peek(); eps != nil {
		add(eps.endSession)
		s.origins.Store(&origins) // final: discovery runs once
	}
	return origins
}

// peek returns the discovered endpoints, or nil before discovery, without discovering.
func (l *lazyProvider) peek() *endpoints {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eps
}
