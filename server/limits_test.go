package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vscard/vscard/server/servertest"
)

// TestGraphQLLimits: abusive requests are refused with a code, without a stack trace or a
// hint at the schema.
func TestGraphQLLimits(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	ctx := context.Background()

	deep := "{ me { cards { edges { node { owner { cards { edges { node { owner { cards { edges { node { id } } } } } } } } } } } } }"
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 300 {
		aliases.WriteString(" a" + itoa(i) + ": cards(first: 100) { edges { node { id serial } } }")
	}
	aliases.WriteString(" }")

	cases := []struct {
		name, query string
		want        string // a code, or a substring of the message
	}{
		{"error/too deep", deep, "nested"},
		{"error/too complex (alias abuse)", aliases.String(), "QUERY_TOO_COMPLEX"},
		{"error/page too large", `{ cards(first: 1000) { totalCount } }`, "INVALID_INPUT"},
		{"error/no field suggestions", `{ mee { id } }`, "Cannot query field"},
		{"error/unknown enum value", `mutation { setUserState(userId: "usr_x", state: SUPERUSER) { id } }`, "SUPERUSER"},
		{"error/illegal id", `{ node(id: "../../etc/passwd") { id } }`, "NOT_FOUND"},
		{"error/not a query", `{{{{`, "GRAPHQL_PARSE_FAILED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := alice.Do(ctx, tc.query, nil, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			es := err.(servertest.Errors)
			if es.Code() != tc.want && !strings.Contains(es.Error(), tc.want) {
				t.Errorf("got %v, want %s", err, tc.want)
			}
			if strings.Contains(es.Error(), "Did you mean") || strings.Contains(es.Error(), "goroutine") || strings.Contains(es.Error(), ".go:") {
				t.Errorf("error leaks internals: %v", err)
			}
		})
	}

	post := func(body []byte, ct string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := alice.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	t.Run("error/request too large", func(t *testing.T) {
		big, _ := json.Marshal(map[string]any{"query": "{ me { id } }", "variables": map[string]string{"x": strings.Repeat("a", 2<<20)}})
		if status, body := post(big, "application/json"); status != http.StatusRequestEntityTooLarge ||
			!strings.Contains(body, `"code":"REQUEST_TOO_LARGE"`) || strings.Contains(body, `"me"`) {
			t.Errorf("a 2 MiB request got %d: %.200s; want 413 REQUEST_TOO_LARGE", status, body)
		}
	})
	t.Run("error/batched queries", func(t *testing.T) {
		batch := []byte(`[{"query":"{ me { id } }"},{"query":"{ me { id } }"}]`)
		if status, body := post(batch, "application/json"); status < 400 || strings.Contains(body, `"me"`) {
			t.Errorf("a batch got %d: %.200s", status, body)
		}
	})
	t.Run("error/form post with the session cookie (CSRF)", func(t *testing.T) {
		if status, _ := post([]byte(`query=mutation{startProcess{id}}`), "application/x-www-form-urlencoded"); status < 400 {
			t.Errorf("a form POST got %d", status)
		}
	})
	t.Run("error/mutation over GET", func(t *testing.T) {
		resp, err := alice.HTTP.Get(env.URL + "/query?query=" + "mutation%7BstartProcess%7Bid%7D%7D")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "errors") || strings.Contains(string(b), `"startProcess":{`) {
			t.Errorf("mutation over GET: %d %.200s", resp.StatusCode, b)
		}
	})
	t.Run("error/introspection for non-admins", func(t *testing.T) {
		err := alice.Do(ctx, `{ __schema { types { name } } }`, nil, nil)
		if err == nil {
			t.Error("a user could introspect the schema")
		}
		admin := env.SignIn(t, servertest.Admin)
		if err := admin.Do(ctx, `{ __schema { types { name } } }`, nil, nil); err != nil {
			t.Errorf("admin introspection: %v", err)
		}
	})
	t.Run("error/forged portal token", func(t *testing.T) {
		tok := env.PortalToken(t, "cards:read")
		parts := strings.Split(tok, ".")
		forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
		err := env.Bearer(forged).Do(ctx, `{ cardStatus(serial: "1") { state } }`, nil, nil)
		if codeOf(err) != "UNAUTHENTICATED" {
			t.Errorf("forged token: %v, want UNAUTHENTICATED", err)
		}
	})
	t.Run("error/non-UTF-8 input", func(t *testing.T) {
		status, body := post([]byte("{\"query\":\"mutation { cancelOrder(orderId: \\\"ord_\xff\xfe\\\") { id } }\"}"), "application/json")
		if !strings.Contains(body, "errors") || strings.Contains(body, `"cancelOrder":{`) {
			t.Errorf("non-UTF-8 input: %d %.200s", status, body)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
