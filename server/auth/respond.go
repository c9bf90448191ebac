package auth

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/vscard/vscard/server/errs"
)

// writeError answers with code's status (errs.HTTPStatus) and a body shaped like a GraphQL
// error response, {"errors":[{"message":…,"extensions":{"code":…}}]}, so that API clients
// read it where they read every other error.
func writeError(w http.ResponseWriter, code errs.Code, message string) {
	errs.Write(w, &errs.Error{Code: code, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// problemPage is shown when a browser sign-in fails. It offers the one useful action.
var problemPage = template.Must(template.New("problem").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · vscard</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>Sign-in failed</h1>
<p>{{.}}</p>
<p><a href="/auth/login">Sign in again</a></p>
</body></html>
`))

// writeProblem answers a browser with a short HTML page.
func writeProblem(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = problemPage.Execute(w, message)
}
