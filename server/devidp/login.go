package devidp

import (
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

// loginPage is deliberately plain: it is a development tool, and it lists the demo users
// with their passwords so that nobody has to look them up.
var loginPage = template.Must(template.New("login").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vscard development sign-in</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
.warn{background:#fff4d6;border:1px solid #e0b000;padding:.75rem;border-radius:.4rem}
label{display:block;margin-top:.75rem}
input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem}
.error{color:#b00020}
table{border-collapse:collapse;margin-top:1.5rem;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left}
code{font-size:.95em}
</style>
</head>
<body>
<main>
<h1>Sign in to vscard</h1>
<p class="warn">Development identity provider. These demo accounts and passwords are public: never use this in production.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus value="{{.Username}}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<table>
<caption>Demo users</caption>
<thead><tr><th scope="col">Username</th><th scope="col">Password</th><th scope="col">vscard state</th><th scope="col">Groups</th></tr></thead>
<tbody>
{{range .Users}}<tr><td><code>{{.Username}}</code></td><td><code>{{.Password}}</code></td><td>{{or .State "default"}}</td><td>{{join .Groups ", "}}</td></tr>
{{end}}</tbody>
</table>
</main>
</body>
</html>
`))

type loginData struct {
	Action   string
	ID       string
	Username string
	Error    string
	Users    []User
}

// loginHandler serves the login form and checks the password. A browser that signed in
// before, and has not signed out (end_session), is sent on without the form.
type loginHandler struct {
	path     string // absolute path of the login page, with the issuer's prefix
	cookies  browserCookie
	storage  *storage
	users    []User
	callback func(r *http.Request, authRequestID string) string
	logger   *slog.Logger
}

func (h *loginHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		id := r.URL.Query().Get("authRequestID")
		if browser := h.cookies.read(r); browser != "" && h.storage.resumeSession(id, browser) {
			h.logger.InfoContext(r.Context(), "devidp: signed in by the browser session")
			http.Redirect(w, r, h.callback(r, id), http.StatusFound)
			return
		}
		h.render(w, http.StatusOK, loginData{ID: id})
	case http.MethodPost:
		h.submit(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *loginHandler) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, username := r.PostForm.Get("id"), r.PostForm.Get("username")
	browser, err := h.storage.checkPassword(id, username, r.PostForm.Get("password"))
	if err != nil {
		h.logger.InfoContext(r.Context(), "devidp: sign-in refused", "username", username)
		h.render(w, http.StatusUnauthorized, loginData{ID: id, Username: username, Error: "Unknown user or wrong password, or the sign-in took too long."})
		return
	}
	h.cookies.set(w, browser)
	h.logger.InfoContext(r.Context(), "devidp: signed in", "username", username)
	http.Redirect(w, r, h.callback(r, id), http.StatusFound)
}

func (h *loginHandler) render(w http.ResponseWriter, status int, d loginData) {
	d.Action, d.Users = h.path, h.users
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, d); err != nil {
		h.logger.Error("devidp: render login page", "err", err)
	}
}

// browserCookie names the provider's session at a browser. It is scoped to the
// provider's path, so it never reaches the application mounted beside it.
type browserCookie struct {
	path   string
	secure bool
}

const browserCookieName = "vscard_devidp_session"

func (c browserCookie) read(r *http.Request) string {
	if k, err := r.Cookie(browserCookieName); err == nil {
		return k.Value
	}
	return ""
}

func (c browserCookie) set(w http.ResponseWriter, value string) {
	k := &http.Cookie{
		Name: browserCookieName, Value: value, Path: c.path,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		k.MaxAge = -1
	}
	http.SetCookie(w, k)
}
