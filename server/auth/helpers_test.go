package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite"

	"github.com/vscard/vscard/ent"
	_ "github.com/vscard/vscard/ent/runtime" // hooks, defaults and privacy policies, as in the server
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/devidp"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// testDB is a fresh SQLite database with the schema, plus the raw handle for looking at
// tables the way an attacker with a database dump would.
type testDB struct {
	client *ent.Client
	raw    *sql.DB
}

func newTestDB(tb testing.TB) *testDB {
	tb.Helper()
	if storetest.Postgres() != "" { // the same tests on PostgreSQL (VSCARD_TEST_POSTGRES)
		db, err := store.Open(context.Background(), storetest.PostgresDatabase(tb), 0)
		if err != nil {
			tb.Fatalf("open postgres: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			tb.Fatalf("migrate: %v", err)
		}
		return &testDB{client: db.Client, raw: db.SQL}
	}
	dsn := "file:" + filepath.Join(tb.TempDir(), "auth.db") +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, db)))
	tb.Cleanup(func() { client.Close() })
	if err := client.Schema.Create(context.Background()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	return &testDB{client: client, raw: db}
}

// lateHandler lets a server start (and so know its URL) before its handler exists.
type lateHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (l *lateHandler) set(h http.Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h = h
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	h := l.h
	l.mu.Unlock()
	if h == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

func newLateServer(tb testing.TB) (*httptest.Server, *lateHandler) {
	tb.Helper()
	lh := &lateHandler{}
	srv := httptest.NewServer(lh)
	tb.Cleanup(srv.Close)
	return srv, lh
}

// idpOptions vary the development provider between tests.
type idpOptions struct {
	path         string // issuer path, default /idp
	clientID     string
	clientSecret string
	users        []devidp.User
	usersFile    string
}

// startIdP runs a devidp on its own server for the app at appURL.
func startIdP(tb testing.TB, appURL string, o idpOptions) *devidp.Provider {
	tb.Helper()
	srv, lh := newLateServer(tb)
	if o.path == "" {
		o.path = "/idp"
	}
	if o.clientID == "" {
		o.clientID = "vscard"
	}
	idp, err := devidp.New(devidp.Config{
		Issuer:                 srv.URL + o.path,
		ClientID:               o.clientID,
		ClientSecret:           o.clientSecret,
		RedirectURIs:           []string{appURL + "/auth/callback"},
		PostLogoutRedirectURIs: []string{appURL + "/"},
		PortalClients: []devidp.PortalClient{
			{ID: "demo-portal", Secret: "portal-secret", Scopes: []string{"cards:read"}},
			{ID: "no-scope-portal", Secret: "portal-secret"},
			{ID: "other-api-portal", Secret: "portal-secret", Scopes: []string{"cards:read"}, Audience: "other-api"},
		},
		Users:     o.users,
		UsersFile: o.usersFile,
		Logger:    quietLogger(),
	})
	if err != nil {
		tb.Fatalf("start devidp: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(o.path+"/", idp)
	lh.set(mux)
	return idp
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testApp is a vscard server with the auth routes and two API endpoints behind
// Middleware: GET /api/whoami shows the viewer, POST /api/mutate stands for any
// state-changing call.
type testApp struct {
	*httptest.Server
	svc     *Service
	db      *testDB
	bridges *fakeBridges
}

// fakeBridges stands in for server/enroll: it accepts the tokens it holds.
type fakeBridges struct {
	mu     sync.Mutex
	tokens map[string]*viewer.Viewer
}

func (f *fakeBridges) AuthenticateBridge(_ context.Context, token string) (*viewer.Viewer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.tokens[token]; ok {
		return v, nil
	}
	return nil, io.EOF // any error: the token is refused
}

// revoke makes the authenticator refuse token from now on.
func (f *fakeBridges) revoke(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tokens, token)
}

// newApp starts a vscard server on its own; configure sets the auth config once the URL
// is known.
func newApp(tb testing.TB, db *testDB, configure func(cfg *Config)) *testApp {
	tb.Helper()
	srv, lh := newLateServer(tb)
	cfg := Config{
		ClientID:             "vscard",
		PublicURL:            srv.URL,
		SessionCheckInterval: 50 * time.Millisecond,
	}
	configure(&cfg)
	if db == nil {
		db = newTestDB(tb)
	}
	bridges := &fakeBridges{tokens: map[string]*viewer.Viewer{
		"vsb_good":  {Kind: viewer.KindBridge, UserID: "usr_owner", OrderID: "ord_1", Name: "bridge"},
		"vsb_other": {Kind: viewer.KindBridge, UserID: "usr_owner", OrderID: "ord_2", Name: "bridge"},
	}}
	svc, err := New(cfg, db.client, bridges, quietLogger())
	if err != nil {
		tb.Fatalf("auth.New: %v", err)
	}
	mux := http.NewServeMux()
	svc.Register(mux)
	mux.Handle("GET /api/whoami", svc.Middleware(http.HandlerFunc(whoami)))
	mux.Handle("POST /api/mutate", svc.Middleware(http.HandlerFunc(whoami)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home "+r.URL.Path) })
	lh.set(mux)
	return &testApp{Server: srv, svc: svc, db: db, bridges: bridges}
}

// whoamiAnswer is what /api/whoami says about the viewer.
type whoamiAnswer struct {
	Kind    viewer.Kind `json:"kind"`
	UserID  string      `json:"userId"`
	Name    string      `json:"name"`
	Roles   []string    `json:"roles"`
	Scopes  []string    `json:"scopes"`
	OrderID string      `json:"orderId"`
	Addr    string      `json:"addr"`
	// Record says whether the viewer carries the record its authentication read.
	Record bool `json:"record"`
}

func whoami(w http.ResponseWriter, r *http.Request) {
	v := viewer.FromContext(r.Context())
	if v == nil {
		writeJSON(w, http.StatusOK, whoamiAnswer{})
		return
	}
	writeJSON(w, http.StatusOK, whoamiAnswer{v.Kind, v.UserID, v.Name, v.Roles, v.Scopes, v.OrderID, v.RemoteAddr, v.Record != nil})
}

// browser is a cookie-keeping HTTP client that stops before /auth/callback when asked.
type browser struct {
	tb           testing.TB
	c            *http.Client
	stopCallback bool
}

func newBrowser(tb testing.TB) *browser {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{tb: tb}
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second}
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if b.stopCallback && req.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.tb.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// postJSON posts body as the SPA does.
func (b *browser) postJSON(u, body string, header ...string) (*http.Response, string) {
	b.tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// signOut posts the SPA's sign-out form, as a browser does for a top-level form POST
// (with Origin), and returns the answer without following it.
func (b *browser) signOut(appURL string) (*http.Response, string) {
	b.tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, appURL+"/auth/logout", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", appURL)
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		b.tb.Fatalf("sign out: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// startLogin opens /auth/login and returns the provider's login page URL.
func (b *browser) startLogin(appURL, returnPath string) *url.URL {
	b.tb.Helper()
	u := appURL + "/auth/login"
	if returnPath != "" {
		u += "?return=" + url.QueryEscape(returnPath)
	}
	resp, body := b.get(u)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
		b.tb.Fatalf("login page: status %d at %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	return resp.Request.URL
}

// submitPassword posts the provider's login form and returns the final response.
func (b *browser) submitPassword(loginPage *url.URL, username, password string) (*http.Response, string) {
	b.tb.Helper()
	form := url.Values{
		"id":       {loginPage.Query().Get("authRequestID")},
		"username": {username},
		"password": {password},
	}
	req, _ := http.NewRequest(http.MethodPost, loginPage.Scheme+"://"+loginPage.Host+loginPage.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn runs the whole browser sign-in and fails the test unless it lands back home.
func (b *browser) signIn(appURL, username, password string) {
	b.tb.Helper()
	resp, body := b.submitPassword(b.startLogin(appURL, "/cards"), username, password)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/cards" {
		b.tb.Fatalf("sign-in as %s: status %d at %s:\n%s", username, resp.StatusCode, resp.Request.URL, body)
	}
}

// sessionInfo returns GET /auth/session.
func (b *browser) sessionInfo(appURL string) sessionInfo {
	b.tb.Helper()
	resp, body := b.get(appURL + "/auth/session")
	if resp.StatusCode != http.StatusOK {
		b.tb.Fatalf("GET /auth/session: %d %s", resp.StatusCode, body)
	}
	return decodeSession(b.tb, body)
}

func decodeSession(tb testing.TB, body string) sessionInfo {
	tb.Helper()
	var info sessionInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		tb.Fatalf("decode session: %v", err)
	}
	return info
}

// whoami returns the viewer /api/whoami sees for req's credentials.
func callWhoami(tb testing.TB, c *http.Client, req *http.Request) (int, whoamiAnswer, string) {
	tb.Helper()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("whoami: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a whoamiAnswer
	_ = json.Unmarshal(body, &a)
	return resp.StatusCode, a, string(body)
}

// sessionCookie returns the browser's vscard session cookie for appURL.
func (b *browser) sessionCookie(appURL string) *http.Cookie {
	u, _ := url.Parse(appURL)
	for _, c := range b.c.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "vscard_session") {
			return c
		}
	}
	return nil
}

func userByName(tb testing.TB, db *testDB, name string) *ent.User {
	tb.Helper()
	u, err := db.client.User.Query().Where(user.Username(name)).Only(viewer.AsServer(context.Background()))
	if err != nil {
		tb.Fatalf("find user %s: %v", name, err)
	}
	return u
}
