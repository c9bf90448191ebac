package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/vscard/vscard/graph/generated"
	"github.com/vscard/vscard/server/errs"
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

// TestErrorCodesAreTheSchemas keeps server/errs, the schema's enum ErrorCode (from which the
// bridge's and the SPA's codes are generated) and the HTTP statuses its descriptions promise
// in step, and checks that anyone can read the list.
func TestErrorCodesAreTheSchemas(t *testing.T) {
	enum := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema().Types["ErrorCode"]
	if enum == nil || enum.Kind != ast.Enum {
		t.Fatal("the schema has no enum ErrorCode")
	}
	var schema []errs.Code
	for _, v := range enum.EnumValues {
		schema = append(schema, errs.Code(v.Name))
		if v.Description == "" {
			t.Errorf("ErrorCode.%s has no description: say what it means to a client", v.Name)
		}
		status := errs.HTTPStatus(errs.Code(v.Name))
		if want := fmt.Sprintf("HTTP %d.", status); !strings.HasSuffix(v.Description, want) {
			t.Errorf("ErrorCode.%s's description does not end in %q, its status in errs.HTTPStatus", v.Name, want)
		}
	}
	if !slices.Equal(schema, errs.Codes()) {
		t.Errorf("enum ErrorCode lists\n%v\nbut errs.Codes() is\n%v", schema, errs.Codes())
	}

	srv := httptest.NewServer(NewHandler(&Resolver{Log: slog.New(slog.DiscardHandler)}, HandlerOptions{}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"query":"{ errorCodes }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ErrorCodes []errs.Code `json:"errorCodes"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Errors) > 0 || !slices.Equal(body.Data.ErrorCodes, errs.Codes()) {
		t.Errorf("anonymous { errorCodes } = %v, errors %s; want %v", body.Data.ErrorCodes, body.Errors, errs.Codes())
	}
}
