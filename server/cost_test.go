package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vscard/vscard/server/servertest"
)

// hostileDocument is a request an anonymous caller can send that made the unfixed server
// spend seconds of CPU, or that probes one of the limits that now refuse such work.
type hostileDocument struct {
	name  string
	query string
	vars  map[string]any
	// limit is the limit the refusal must name (extensions.limit).
	limit string
}

// hostileDocuments builds the table. Sizes are chosen so that each one was expensive for
// the unfixed server (see the figures in RELIABILITY.md) or sits just over one limit.
func hostileDocuments() []hostileDocument {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }

	// { ...F0 } fragment F0 on Query { __typename ...F1 ...F1 } … fragment F24 on Query
	// { __typename }: 1.2 KB, 2^25 fields once expanded.
	fanOut := func(levels int, body string) string {
		var b strings.Builder
		b.WriteString("{ ...F0 }")
		for i := range levels - 1 {
			fmt.Fprintf(&b, " fragment F%d on Query { %s ...F%d ...F%d }", i, body, i+1, i+1)
		}
		fmt.Fprintf(&b, " fragment F%d on Query { %s }", levels-1, body)
		return b.String()
	}
	ids := make([]any, 100_000)
	for i := range ids {
		ids[i] = "usr_x"
	}
	deepWhere := map[string]any{"actor": "x"}
	for range 5000 {
		deepWhere = map[string]any{"not": deepWhere}
	}

	return []hostileDocument{
		{name: "fragment fan-out, 25 levels (1.2 KB)", query: fanOut(25, "__typename"), limit: "selections"},
		{name: "fragment fan-out, 27 levels", query: fanOut(27, "__typename"), limit: "selections"},
		{name: "duplicate fields, 16,000 id (48 KB)", query: "{ me {" + rep(" id", 16_000) + " } }", limit: "size"},
		{name: "duplicate fields, 8,000 id (24 KB)", query: "{ me {" + rep(" id", 8_000) + " } }", limit: "tokens"},
		{name: "duplicate fields, 1,100 id", query: "{ me {" + rep(" id", 1_100) + " } }", limit: "selections"},
		{name: "aliases × fragments, 12 levels of 20 aliases", query: fanOut(12, numbered("a%d: __typename ", 20)), limit: "aliases"},
		{name: "aliases, 200 in one selection", query: "{" + numbered(" a%d: __typename", 200) + " }", limit: "aliases"},
		{name: "deep list literal in an argument, 100,000 levels", query: `{ node(id: ` + rep("[", 100_000) + `"x"` + rep("]", 100_000) + `) { id } }`, limit: "size"},
		{name: "deep list literal in an argument, 50 levels", query: `{ node(id: ` + rep("[", 50) + `"x"` + rep("]", 50) + `) { id } }`, limit: "value depth"},
		{name: "wide list literal in an argument, 2,000 items", query: `{ nodes(ids: [` + rep(`"x" `, 2_000) + `]) { id } }`, limit: "values"},
		{name: "repeated directives, 20,000 on one field", query: "{ __typename" + rep(" @include(if: true)", 20_000) + " }", limit: "size"},
		{name: "repeated directives, 100 on one field", query: "{ __typename" + rep(" @include(if: true)", 100) + " }", limit: "directives"},
		{name: "directives × fragments, 10 levels of 10", query: fanOut(10, "__typename"+rep(" @skip(if: false)", 10)), limit: "directives"},
		{name: "huge string literal (900 KB)", query: `{ cardStatus(serial: "` + rep("A", 900_000) + `") { state } }`, limit: "size"},
		{name: "many operations in one document, 700", query: numbered("query q%d{__typename __typename}", 700), limit: "selections"},
		{name: "repeated arguments, 3,000 on one field", query: `{ node(` + rep(`id: "x" `, 3_000) + `) { id } }`, limit: "tokens"},
		{name: "large variables, 100,000 ids", query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, vars: map[string]any{"ids": ids}, limit: "values"},
		{name: "deep variables, 5,000 levels of where", query: `query($w: AuditEventWhereInput) { auditEvents(where: $w) { totalCount } }`, vars: map[string]any{"w": deepWhere}, limit: "value depth"},
	}
}

// numbered repeats format n times, with the copy's number in it.
func numbered(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestHostileDocumentsCostLittle sends each hostile document anonymously over POST and
// GET through the real server and checks that it is refused with QUERY_TOO_COMPLEX naming
// the limit, and that the process spent little CPU on it (process CPU time, so that work
// in any goroutine counts; cases run one after the other).
//
// VSCARD_COST_REPORT=1 only measures and logs (no assertions), to take the figures of a
// build without the limits.
func TestHostileDocumentsCostLittle(t *testing.T) {
	env := servertest.Start(t)
	anon := env.Anonymous()
	anon.HTTP.Timeout = 5 * time.Minute
	report := os.Getenv("VSCARD_COST_REPORT") != ""
	bound := 100 * time.Millisecond
	if raceEnabled {
		bound *= 10 // the race detector slows everything down 2-20 times
	}

	do(t, anon, graphQLRequest(t, anon, http.MethodPost, `{ __typename }`, nil)) // warm up the handler
	for _, tc := range hostileDocuments() {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				if method == http.MethodGet && len(tc.query)+jsonLen(tc.vars) > 256<<10 {
					t.Skip("too long for a URL")
				}
				req := graphQLRequest(t, anon, method, tc.query, tc.vars)
				before := cpuTime(t)
				status, body := do(t, anon, req)
				spent := cpuTime(t) - before
				t.Logf("%s: %v CPU, status %d, %.200s", method, spent, status, body)
				if report {
					return
				}
				var r struct {
					Data   map[string]any `json:"data"`
					Errors []struct {
						Message    string         `json:"message"`
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal([]byte(body), &r); err != nil {
					t.Fatalf("decode response (status %d): %v: %.200s", status, err, body)
				}
				if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" || r.Errors[0].Extensions["limit"] != tc.limit {
					t.Errorf("got %d %.300s, want one QUERY_TOO_COMPLEX error naming the %s limit", status, body, tc.limit)
				}
				if r.Data != nil {
					t.Errorf("a refused document got data: %v", r.Data)
				}
				if spent > bound {
					t.Errorf("the server spent %v of CPU on it, want < %v", spent, bound)
				}
			})
		}
	}
}

// graphQLRequest is a GraphQL request over POST or GET, made before the CPU time is taken
// so that encoding it does not count.
func graphQLRequest(t *testing.T, c *servertest.Client, method, query string, vars map[string]any) *http.Request {
	t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		q := url.Values{"query": {query}}
		if vars != nil {
			b, _ := json.Marshal(vars)
			q.Set("variables", string(b))
		}
		req, _ = http.NewRequestWithContext(t.Context(), method, c.URL+"/query?"+q.Encode(), nil)
	} else {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ = http.NewRequestWithContext(t.Context(), method, c.URL+"/query", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// do sends req and returns the status and body.
func do(t *testing.T, c *servertest.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s /query: %v", req.Method, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func jsonLen(v map[string]any) int {
	if v == nil {
		return 0
	}
	b, _ := json.Marshal(v)
	return len(b)
}

// cpuTime is the CPU time (user and system) this process has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
