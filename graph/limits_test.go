package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/vscard/vscard/server/viewer"
)

// realOperations returns every GraphQL document the repository's clients send, each as
// sent: the operation with the fragments it spreads. They come from the SPA's generated
// document map, the desktop bridge's operations file, and GraphiQL's introspection query
// (the admin playground).
func realOperations(t *testing.T) map[string]string {
	t.Helper()
	var sources []string
	ts, err := os.ReadFile("../frontend/src/gql/gql.ts")
	if err != nil {
		t.Fatal(err)
	}
	// The keys of graphql-codegen's `type Documents` are the documents as JSON strings.
	key := regexp.MustCompile(`(?m)^\s*("(?:[^"\\]|\\.)*"): typeof types\.`)
	for _, m := range key.FindAllStringSubmatch(string(ts), -1) {
		var s string
		if err := json.Unmarshal([]byte(m[1]), &s); err != nil {
			t.Fatalf("decode %.60s: %v", m[1], err)
		}
		sources = append(sources, s)
	}
	for _, f := range []string{"../desktop-bridge/api/operations.graphql", "testdata/introspection.graphql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}

	var all ast.QueryDocument
	for _, s := range sources {
		doc, err := parser.ParseQuery(&ast.Source{Input: s})
		if err != nil {
			t.Fatalf("parse %.60s: %v", s, err)
		}
		all.Operations = append(all.Operations, doc.Operations...)
		all.Fragments = append(all.Fragments, doc.Fragments...)
	}
	text := func(pos *ast.Position, end int) string { return pos.Src.Input[pos.Start:end] }
	fragmentText := map[string]string{}
	for _, f := range all.Fragments {
		fragmentText[f.Name] = text(f.Position, endOf(f.SelectionSet, f.Position.Src))
	}
	ops := map[string]string{}
	for _, op := range all.Operations {
		var b strings.Builder
		b.WriteString(text(op.Position, endOf(op.SelectionSet, op.Position.Src)))
		seen := map[string]bool{}
		var spread func(set ast.SelectionSet)
		spread = func(set ast.SelectionSet) {
			for _, s := range set {
				switch s := s.(type) {
				case *ast.Field:
					spread(s.SelectionSet)
				case *ast.InlineFragment:
					spread(s.SelectionSet)
				case *ast.FragmentSpread:
					if !seen[s.Name] {
						seen[s.Name] = true
						b.WriteString("\n" + fragmentText[s.Name])
						spread(all.Fragments.ForName(s.Name).SelectionSet)
					}
				}
			}
		}
		spread(op.SelectionSet)
		ops[op.Name] = b.String()
	}
	return ops
}

// endOf finds the end of a definition whose selection set is set: the offset after the
// closing brace that matches the first opening brace at or after the set's first item.
func endOf(set ast.SelectionSet, src *ast.Source) int {
	in := src.Input
	start := strings.LastIndex(in[:positionOf(set[0])], "{")
	depth := 0
	for i := start; i < len(in); i++ {
		switch in[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return len(in)
}

func positionOf(s ast.Selection) int { return s.GetPosition().Start }

// TestRealOperationsPassLimits: every operation the SPA, the desktop bridge and the
// playground send passes with half of every default limit (three levels less of depth:
// the deepest, MyCards, nests 8), so the defaults leave room.
func TestRealOperationsPassLimits(t *testing.T) {
	d := DefaultLimits
	half := Limits{
		MaxBytes: d.MaxBytes / 2, MaxTokens: d.MaxTokens / 2,
		MaxSelections: d.MaxSelections / 2, MaxAliases: d.MaxAliases / 2,
		MaxDirectives: d.MaxDirectives / 2, MaxValues: d.MaxValues / 2,
		MaxValueDepth: d.MaxValueDepth / 2, MaxDepth: d.MaxDepth - 3,
	}
	ops := realOperations(t)
	for _, want := range []string{"AuditEvents", "ClaimOrder", "SubmitCardKeys", "OrderUpdated", "IntrospectionQuery"} {
		if _, ok := ops[want]; !ok {
			t.Errorf("operation %s not found; found %d", want, len(ops))
		}
	}
	if len(ops) < 20 {
		t.Errorf("found only %d operations", len(ops))
	}
	for name, q := range ops {
		t.Run(name, func(t *testing.T) {
			dl := documentLimits{limits: half, cache: noCache{}, log: slog.New(slog.DiscardHandler)}
			if err := dl.check(context.Background(), &graphql.RawParams{Query: q}); err != nil {
				t.Errorf("refused at half the default limits: %v\n%s", err, q)
			}
		})
	}
}

// TestCounterCountsExpanded checks the counter on documents whose cost is known, so that
// the hostile-document table's refusals are for the right reasons.
func TestCounterCountsExpanded(t *testing.T) {
	fanOut := func(levels int) string {
		var b strings.Builder
		b.WriteString("{ ...F0 }")
		for i := range levels - 1 {
			b.WriteString(" fragment F" + itoa(i) + " on Query { __typename ...F" + itoa(i+1) + " ...F" + itoa(i+1) + " }")
		}
		b.WriteString(" fragment F" + itoa(levels-1) + " on Query { __typename }")
		return b.String()
	}
	cases := []struct {
		name, query string
		want        cost
	}{
		{"ok/plain", `{ me { id cards { totalCount } } }`, cost{selections: 4, depth: 3}},
		// 2^k - 1 __typename, 2^k - 2 spreads, plus the operation's one spread.
		{"ok/fan-out of 5", fanOut(5), cost{selections: 31 + 30 + 1, depth: 1}},
		{"ok/aliases and directives in a fragment spread twice", `{ ...F ...F } fragment F on Query { a: __typename @include(if: true) }`, cost{selections: 4, aliases: 2, directives: 2, values: 2, depth: 1}},
		{"ok/literals", `{ nodes(ids: ["a", "b"]) { id } }`, cost{selections: 2, values: 3, valueDepth: 1, depth: 2}},
		{"ok/unused fragment counts", `{ __typename } fragment U on Query { __typename }`, cost{selections: 2, depth: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			c := newCounter(doc, DefaultLimits)
			var total cost
			for _, op := range doc.Operations {
				oc, err := c.operation(op)
				if err != nil {
					t.Fatal(err)
				}
				total = c.add(total, oc)
			}
			for _, f := range doc.Fragments {
				if !c.spread[f.Name] {
					fc, _ := c.fragment(f.Name)
					total = c.add(total, fc)
				}
			}
			if total != tc.want {
				t.Errorf("cost %+v, want %+v", total, tc.want)
			}
		})
	}
	t.Run("error/fragment cycle", func(t *testing.T) {
		doc, _ := parser.ParseQuery(&ast.Source{Input: `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`})
		if err := newCounter(doc, DefaultLimits).document(); err == nil || !strings.Contains(err.Error(), "within itself") {
			t.Errorf("a fragment cycle: %v", err)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func sha256Hex(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// post sends one query to h as v (nil: anonymous) and returns the decoded response.
func post(t *testing.T, h http.Handler, v *viewer.Viewer, body string, ctx context.Context) gqlResponse {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if ctx != nil {
		req = req.WithContext(ctx)
	}
	if v != nil {
		req = req.WithContext(viewer.NewContext(req.Context(), v))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
	out.raw = rec.Body.String()
	return out
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	raw string
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions["code"].(string)
	return s
}

// TestComplexityRefusal: gqlgen's complexity limit, the one limit checked after
// validation, refuses with QUERY_TOO_COMPLEX naming it.
func TestComplexityRefusal(t *testing.T) {
	h := NewHandler(&Resolver{Log: slog.New(slog.DiscardHandler)}, HandlerOptions{Limits: Limits{MaxComplexity: 3}})
	r := post(t, h, nil, `{"query":"{ a: __typename b: __typename c: __typename d: __typename }"}`, nil)
	if r.code() != "QUERY_TOO_COMPLEX" || r.Errors[0].Extensions["limit"] != "complexity" {
		t.Errorf("got %s, want QUERY_TOO_COMPLEX naming the complexity limit", r.raw)
	}
}

// TestPersistedQueriesCannotBypassLimits: a hostile document registered as an automatic
// persisted query is refused, and so is a later request that names it by hash only.
func TestPersistedQueriesCannotBypassLimits(t *testing.T) {
	h := NewHandler(&Resolver{Log: slog.New(slog.DiscardHandler)}, HandlerOptions{})
	q := "{" + strings.Repeat(" __typename", 1100) + " }"
	hash := sha256Hex(q)
	ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	if r := post(t, h, nil, `{"query":`+quote(q)+`,`+ext+`}`, nil); r.code() != "QUERY_TOO_COMPLEX" {
		t.Errorf("registering: %.300s", r.raw)
	}
	if r := post(t, h, nil, `{`+ext+`}`, nil); r.code() != "QUERY_TOO_COMPLEX" && r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("by hash: %.300s", r.raw)
	}
}

// TestRequestDeadline: a request whose deadline has passed, or whose client has gone, is
// refused with TIMEOUT before any work; the refusal is not logged as a fault.
func TestRequestDeadline(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	alice := &viewer.Viewer{Kind: viewer.KindUser, UserID: "usr_x", Roles: []string{viewer.RoleUser}}

	// The resolver has no database: had the query run, it would have panicked (INTERNAL).
	h := NewHandler(&Resolver{Log: log}, HandlerOptions{RequestTimeout: time.Nanosecond})
	if r := post(t, h, alice, `{"query":"{ me { id } }"}`, nil); r.code() != "TIMEOUT" {
		t.Errorf("past its deadline: %s", r.raw)
	}

	h = NewHandler(&Resolver{Log: log}, HandlerOptions{})
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if r := post(t, h, alice, `{"query":"{ me { id } }"}`, gone); r.code() != "TIMEOUT" {
		t.Errorf("client gone: %s", r.raw)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("logged as a fault:\n%s", logs.String())
	}
}

// TestIntrospectionRefusal: introspection asked for by a caller not allowed it, however
// it is spelled, gets INTROSPECTION_DISABLED and no ERROR log line; an administrator gets
// the schema; __typename stays open.
func TestIntrospectionRefusal(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := NewHandler(&Resolver{Log: log}, HandlerOptions{})
	alice := &viewer.Viewer{Kind: viewer.KindUser, UserID: "usr_x", Roles: []string{viewer.RoleUser}}
	for _, q := range []string{
		`{ __schema { types { name } } }`,
		`{ __type(name: "User") { name fields { name } } }`,
		`{ ... on Query { __schema { queryType { name } } } }`,
		`{ ...F } fragment F on Query { __type(name: "Card") { name } }`,
		`query { __typename __schema { directives { name } } }`,
	} {
		for _, v := range []*viewer.Viewer{nil, alice} {
			r := post(t, h, v, `{"query":`+quote(q)+`}`, nil)
			if r.code() != "INTROSPECTION_DISABLED" {
				t.Errorf("%s as %v: %s", q, v, r.raw)
			}
			if strings.Contains(r.raw, `"User"`) || strings.Contains(r.raw, `"types"`) && !strings.Contains(r.raw, `"types":null`) {
				t.Errorf("%s as %v: the schema leaks: %s", q, v, r.raw)
			}
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("refused introspection logged as a fault:\n%s", logs.String())
	}
	if r := post(t, h, nil, `{"query":"{ __typename }"}`, nil); r.code() != "" {
		t.Errorf("__typename: %s", r.raw)
	}
	admin := &viewer.Viewer{Kind: viewer.KindUser, UserID: "usr_a", Roles: []string{viewer.RoleUser, viewer.RoleAdmin}}
	if r := post(t, h, admin, `{"query":"{ __type(name: \"User\") { name } }"}`, nil); r.code() != "" || !strings.Contains(r.raw, `"User"`) {
		t.Errorf("admin: %s", r.raw)
	}
	full, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if r := post(t, h, admin, `{"query":`+quote(string(full))+`}`, nil); r.code() != "" || r.Data["__schema"] == nil {
		t.Errorf("admin, GraphiQL's introspection query: %.300s", r.raw)
	}
}

// TestNoSuggestionsWithoutIntrospection tries every kind of "Did you mean" gqlparser
// produces: with introspection off nobody gets one, with it on they appear (so the test
// can see them).
func TestNoSuggestionsWithoutIntrospection(t *testing.T) {
	cases := []struct{ name, body string }{
		{"field", `{"query":"{ mee { id } }"}`},
		{"argument", `{"query":"mutation { setUserState(userId: \"usr_x\", stat: ACTIVE) { id } }"}`},
		{"enum value", `{"query":"mutation { setUserState(userId: \"usr_x\", state: ACTIV) { id } }"}`},
		{"enum value as a string", `{"query":"mutation { setUserState(userId: \"usr_x\", state: \"ACTIVE\") { id } }"}`},
		{"input field", `{"query":"{ auditEvents(where: { actio: \"x\" }) { totalCount } }"}`},
		{"type", `{"query":"{ ...F } fragment F on Quer { __typename }"}`},
		{"leaf", `{"query":"{ me }"}`},
		{"variable's enum value", `{"query":"mutation($s: UserState!) { setUserState(userId: \"usr_x\", state: $s) { id } }","variables":{"s":"ACTIV"}}`},
		{"variable's input field", `{"query":"query($w: AuditEventWhereInput) { auditEvents(where: $w) { totalCount } }","variables":{"w":{"actio":"x"}}}`},
	}
	leaks := func(r gqlResponse) bool { return strings.Contains(r.raw, "mean") }
	closed := NewHandler(&Resolver{Log: slog.New(slog.DiscardHandler)}, HandlerOptions{})
	open := NewHandler(&Resolver{Log: slog.New(slog.DiscardHandler)}, HandlerOptions{AllowIntrospection: true})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, closed, nil, tc.body, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("accepted: %s", r.raw)
			}
			if leaks(r) {
				t.Errorf("introspection off, yet: %s", r.raw)
			}
			if !strings.HasPrefix(tc.name, "variable") && !strings.Contains(post(t, open, nil, tc.body, nil).raw, "Did you mean") {
				t.Errorf("introspection on, no suggestion: the case tests nothing")
			}
		})
	}
}

// noCache is a query cache that holds nothing.
type noCache struct{}

func (noCache) Get(context.Context, string) (*ast.QueryDocument, bool) { return nil, false }
func (noCache) Add(context.Context, string, *ast.QueryDocument)        {}
