package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCallbackQuery throws arbitrary query strings at /auth/callback of a browser that
// has a sign-in pending: none may sign it in, none may crash the handler, and none gets
// past the state check to the provider (which is unreachable here).
func FuzzCallbackQuery(f *testing.F) {
	for _, seed := range []string{
		"", "code=x&state=y", "state=", "error=access_denied&state=s", "code=%zz", "state=a&state=b",
		"code=" + strings.Repeat("A", 5000), "state=%00&code=%0a",
	} {
		f.Add(seed)
	}
	db := newTestDB(f)
	svc, err := New(Config{Issuer: "http://127.0.0.1:1", ClientID: "vscard", PublicURL: "http://localhost"}, db.client, nil, quietLogger())
	if err != nil {
		f.Fatal(err)
	}
	h := svc.Routes()
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "http://localhost/auth/callback", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 400 {
			t.Fatalf("query %q: status %d", query, rec.Code)
		}
		if strings.Contains(strings.Join(rec.Header().Values("Set-Cookie"), ";"), "vscard_session=") {
			t.Fatalf("query %q: session cookie set", query)
		}
	})
}

// FuzzLocalPath checks that the return parameter can only lead to a path on this server.
func FuzzLocalPath(f *testing.F) {
	for _, seed := range []string{"/", "/cards", "//evil", "/\\evil", "https://evil", "/a?b=//c", "/%2f%2fevil", " /x", "/\t/evil"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := localPath(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\r\n\t") {
			t.Fatalf("localPath(%q) = %q", in, out)
		}
		req, err := http.NewRequest(http.MethodGet, "http://vscard.test"+out, nil)
		if err != nil || req.URL.Host != "vscard.test" {
			t.Fatalf("localPath(%q) = %q leaves the host", in, out)
		}
	})
}
