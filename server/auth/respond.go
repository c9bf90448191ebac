package auth

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/vscard/vscard/server/errs"
)

// graphQLError is the body of an error answer, shaped like a GraphQL error response so
// that API clients handle it in one place.
type graphQLError struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

// writeError answers with status and {"errors":[{"message":…,"extensions":{"code":…}}]}.
func writeError(w http.ResponseWriter, status int, code errs.Code, message string) {
	writeJSON(w, status, graphQLError{Errors: []errorEntry{{
		Message:    message,
		Extensions: map[string]string{"code": string(code)},
	}}})
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
