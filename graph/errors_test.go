package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vscard/vscard/server/viewer"
)

// TestPanicBecomesInternal: a resolver that panics (here: no database) answers INTERNAL
// with a reference, and the stack goes to the log, not to the client.
func TestPanicBecomesInternal(t *testing.T) {
	var logs bytes.Buffer
	h := NewHandler(&Resolver{Log: slog.New(slog.NewTextHandler(&logs, nil))}, HandlerOptions{})
	withViewer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &viewer.Viewer{Kind: viewer.KindUser, UserID: "usr_x", Name: "x", Roles: []string{viewer.RoleUser}}
		h.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	})
	srv := httptest.NewServer(withViewer)
	defer srv.Close()

	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"query":"{ me { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Errors) != 1 {
		t.Fatalf("response %s (%v)", body, err)
	}
	if out.Errors[0].Extensions["code"] != "INTERNAL" {
		t.Errorf("code %v, want INTERNAL", out.Errors[0].Extensions["code"])
	}
	if strings.Contains(string(body), "goroutine") || strings.Contains(string(body), "nil pointer") || strings.Contains(string(body), ".go:") {
		t.Errorf("the client sees internals: %s", body)
	}
	if !strings.Contains(logs.String(), "graphql panic") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic and its stack are not in the log:\n%s", logs.String())
	}
}

// TestAccessDenyByDefault: an anonymous caller is UNAUTHENTICATED and a user asking for an
// administrator's field FORBIDDEN, before any resolver runs (the resolver has no database
// and would panic).
func TestAccessDenyByDefault(t *testing.T) {
	h := NewHandler(&Resolver{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, HandlerOptions{})
	cases := []struct {
		name  string
		v     *viewer.Viewer
		query string
		code  string
	}{
		{"error/anonymous", nil, `{ me { id } }`, "UNAUTHENTICATED"},
		{"error/user asks for users", &viewer.Viewer{Kind: viewer.KindUser, UserID: "usr_x"}, `{ users { totalCount } }`, "FORBIDDEN"},
		{"error/portal asks for me", &viewer.Viewer{Kind: viewer.KindPortal, Scopes: []string{"cards:read"}}, `{ me { id } }`, "FORBIDDEN"},
		{"error/portal claims an order", &viewer.Viewer{Kind: viewer.KindPortal}, `mutation { claimOrder(orderId: "o", token: "t") { sessionToken } }`, "FORBIDDEN"},
		{"error/bridge lists users", &viewer.Viewer{Kind: viewer.KindBridge, OrderID: "ord_x"}, `{ users { totalCount } }`, "FORBIDDEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":`+quote(tc.query)+`}`))
			req.Header.Set("Content-Type", "application/json")
			if tc.v != nil {
				req = req.WithContext(viewer.NewContext(req.Context(), tc.v))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) {
				t.Errorf("got %s, want %s", rec.Body.String(), tc.code)
			}
		})
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
