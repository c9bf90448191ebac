package errs

import (
	"encoding/json"
	"net/http"
)

// Write answers an HTTP request outside GraphQL with e: the status HTTPStatus gives e's
// code (500 for a code it does not know), and a body shaped like a GraphQL error response,
// {"errors":[{"message":…,"extensions":{"code":…,…details}}]}, so that API clients read it
// where they read every other error. The Cause is never sent.
func Write(w http.ResponseWriter, e *Error) {
	ext := map[string]any{}
	for k, v := range e.Details {
		ext[k] = v
	}
	ext["code"] = e.Code
	status := HTTPStatus(e.Code)
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    e.Message,
		"extensions": ext,
	}}})
}
