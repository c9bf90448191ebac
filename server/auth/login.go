package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// login starts the authorization code flow: a fresh state, nonce and PKCE verifier are
// kept in the login-state cookie (sealed; no database row for a visitor who has not
// signed in), and the browser goes to the provider.
func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	eps, err := s.provider.get(r.Context())
	if err != nil {
		s.logger.ErrorContext(r.Context(), "sign-in provider unavailable", "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "The sign-in service is not reachable right now. Try again in a moment.")
		return
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()

	pending := s.loginState.read(r)
	for len(pending) >= maxPending {
		delete(pending, oldest(pending))
	}
	ret := localPath(r.URL.Query().Get("return"))
	if len(ret) > maxReturnPath {
		ret = "/"
	}
	pending[state] = pendingLogin{
		Nonce:    nonce,
		Verifier: verifier,
		Return:   ret,
		Started:  s.cfg.Now(),
	}
	if err := s.loginState.write(w, pending); err != nil {
		s.logger.ErrorContext(r.Context(), "sign-in state not kept", "err", err)
		writeProblem(w, http.StatusInternalServerError, "Something went wrong on our side.")
		return
	}
	http.Redirect(w, r, eps.oauth2.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), http.StatusFound)
}

// callbackError is a failed callback: what the log gets, and what the browser sees.
type callbackError struct {
	status int
	public string
	cause  error
}

func (e *callbackError) Error() string { return e.cause.Error() }
func (e *callbackError) Unwrap() error { return e.cause }

// callback finishes the flow: the state must be one this browser started (and is used
// up now), the code is exchanged with the PKCE verifier, and the ID token must verify
// (issuer, audience, expiry, algorithm, signature) and carry the nonce of that state.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.takePending(w, r)
	if err == nil {
		err = s.finishLogin(ctx, r, p)
	}
	if err != nil {
		var ce *callbackError
		if !errors.As(err, &ce) {
			ce = &callbackError{status: http.StatusInternalServerError, public: "Something went wrong on our side.", cause: err}
		}
		s.logger.WarnContext(ctx, "sign-in failed", "err", ce.cause, "remote_addr", s.clientAddr(r))
		writeProblem(w, ce.status, ce.public)
		return
	}
	http.Redirect(w, r, p.Return, http.StatusSeeOther)
}

// takePending removes the pending sign-in of the callback's state from the login-state
// cookie, so that a callback URL works at most once in this browser (the provider's code
// works once anyway).
func (s *Service) takePending(w http.ResponseWriter, r *http.Request) (pendingLogin, error) {
	q := r.URL.Query()
	state := q.Get("state")
	pending := s.loginState.read(r)
	p, ok := pending[state]
	if state != "" && ok {
		delete(pending, state)
		if err := s.loginState.write(w, pending); err != nil {
			return p, err
		}
	}
	if e := q.Get("error"); e != "" {
		return p, &callbackError{http.StatusUnauthorized, "The identity provider did not sign you in.",
			fmt.Errorf("provider answered %q: %q", e, q.Get("error_description"))}
	}
	if state == "" || !ok {
		return p, &callbackError{http.StatusBadRequest, "This sign-in link is unknown or was already used. Start again.",
			errors.New("check state: unknown, missing or already used")}
	}
	return p, nil
}

// finishLogin exchanges the code, verifies the ID token, records the user and starts the
// session under a new token (no session fixation).
func (s *Service) finishLogin(ctx context.Context, r *http.Request, p pendingLogin) error {
	code := r.URL.Query().Get("code")
	if code == "" {
		return &callbackError{http.StatusBadRequest, "The sign-in answer had no code. Start again.", errors.New("check code: missing")}
	}
	eps, err := s.provider.get(ctx)
	if err != nil {
		return &callbackError{http.StatusServiceUnavailable, "The sign-in service is not reachable right now.", err}
	}
	tok, err := eps.oauth2.Exchange(oidc.ClientContext(ctx, s.cfg.HTTPClient), code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return &callbackError{http.StatusBadGateway, "The identity provider refused the sign-in. Start again.", fmt.Errorf("exchange code: %w", err)}
	}
	rawIDToken, _ := tok.Extra("id_token").(string)
	if rawIDToken == "" {
		return &callbackError{http.StatusBadGateway, "The identity provider sent no ID token.", errors.New("read ID token: missing")}
	}
	idt, err := eps.idTokens.Verify(oidc.ClientContext(ctx, s.cfg.HTTPClient), rawIDToken)
	if err != nil {
		return &callbackError{http.StatusUnauthorized, "The identity provider's answer could not be verified.", fmt.Errorf("verify ID token: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.Nonce)) != 1 {
		return &callbackError{http.StatusUnauthorized, "The identity provider's answer could not be verified.", errors.New("verify ID token: nonce mismatch")}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return &callbackError{http.StatusUnauthorized, "The identity provider's answer could not be verified.", fmt.Errorf("verify at_hash: %w", err)}
		}
	}
	var raw json.RawMessage
	if err := idt.Claims(&raw); err != nil {
		return fmt.Errorf("read ID token claims: %w", err)
	}
	prof, err := profileFromClaims(&s.cfg, idt.Issuer, idt.Subject, raw)
	if err != nil {
		return err
	}
	addr := s.clientAddr(r)
	u, err := s.upsertUser(ctx, prof, addr)
	if err != nil {
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session token: %w", err)
	}
	s.sessions.Put(ctx, keyUserID, u.ID)
	s.sessions.Put(ctx, keyRoles, strings.Join(u.Roles, " "))
	s.sessions.Put(ctx, keyIDToken, rawIDToken)
	s.sessions.Put(ctx, keySignedInAt, s.cfg.Now().UnixNano())
	s.logger.InfoContext(ctx, "signed in", "user", u.ID, "username", u.Username, "remote_addr", addr)
	return nil
}

// logout ends the session and, when the provider supports RP-initiated logout, sends the
// browser there too, so that the provider's own session ends as well. It is a top-level
// form POST answered with a 303: the ID token travels as id_token_hint in the Location
// the browser follows, never in a body that page script could read.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid := s.sessions.GetString(ctx, keyUserID)
	idToken := s.sessions.GetString(ctx, keyIDToken)
	if err := s.sessions.Destroy(ctx); err != nil {
		s.sessionError(w, r, err)
		return
	}
	redirect := "/"
	if uid != "" {
		if u, err := s.loadUser(ctx, uid); err == nil {
			if err := auditUser(ctx, s.client, u, ActionLogout, s.clientAddr(r), nil); err != nil {
				s.logger.ErrorContext(ctx, "audit sign-out", "err", err)
			}
			s.logger.InfoContext(ctx, "signed out", "user", u.ID, "username", u.Username)
		}
		redirect = s.endSessionURL(ctx, idToken)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, redirect, http.StatusSeeOther)
}

// endSessionURL is the provider's end_session_endpoint with the ID token as hint, or "/"
// when the provider has none.
func (s *Service) endSessionURL(ctx context.Context, idToken string) string {
	eps, err := s.provider.get(ctx)
	if err != nil || eps.endSession == "" {
		return "/"
	}
	u, err := url.Parse(eps.endSession)
	if err != nil {
		return "/"
	}
	q := u.Query()
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", s.cfg.ClientID)
	q.Set("post_logout_redirect_uri", s.cfg.PostLogoutRedirectURL)
	u.RawQuery = q.Encode()
	return u.String()
}

// sessionInfo is what the SPA learns about the session: never a token.
type sessionInfo struct {
	Authenticated bool         `json:"authenticated"`
	User          *sessionUser `json:"user"`
}

type sessionUser struct {
	ID          string   `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"displayName"`
	Email       string   `json:"email"`
	State       string   `json:"state"`
	Roles       []string `json:"roles"`
}

// session tells the SPA who is signed in.
func (s *Service) session(w http.ResponseWriter, r *http.Request) {
	info := sessionInfo{}
	if uid := s.sessions.GetString(r.Context(), keyUserID); uid != "" {
		if u, err := s.loadUser(r.Context(), uid); err == nil {
			info.Authenticated = true
			info.User = &sessionUser{
				ID: u.ID, Username: u.Username, DisplayName: u.DisplayName,
				Email: u.Email, State: string(u.State), Roles: u.Roles,
			}
		}
	}
	writeJSON(w, http.StatusOK, info)
}

// localPath returns p when it is a path on this server, else "/": the return parameter
// must not become an open redirect.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	// Re-encoding may turn "/%2f…" into "//…": check the result, not only the input.
	out := u.RequestURI()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\r\n\t") {
		return "/"
	}
	return out
}

func oldest(p map[string]pendingLogin) string {
	var key string
	var at time.Time
	for k, v := range p {
		if key == "" || v.Started.Before(at) {
			key, at = k, v.Started
		}
	}
	return key
}
