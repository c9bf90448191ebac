package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
)

// forwardedFor adds the X-Forwarded-For header a load balancer would.
type forwardedFor string

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(f))
	return http.DefaultTransport.RoundTrip(r)
}

// TestAuditBehindProxy: the audit log records the address a trusted load balancer
// forwarded, and the TCP peer's whenever the peer (here 127.0.0.1) is not trusted.
func TestAuditBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"ok/trusted peer", []string{"127.0.0.1/32", "10.0.0.0/8"}, "203.0.113.7"},
		{"ok/untrusted peer", []string{"10.0.0.0/8"}, "127.0.0.1"},
		{"ok/no setting", nil, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.Start(t, func(c *server.Config) { c.TrustedProxies = tc.trusted })
			alice := env.SignIn(t, servertest.Alice)
			// The client claims to be 198.51.100.1; the balancer at 10.0.0.5 saw 203.0.113.7.
			alice.HTTP.Transport = forwardedFor("198.51.100.1, 203.0.113.7, 10.0.0.5")
			var out struct{ StartProcess struct{ ID string } }
			alice.MustDo(t, qStart, nil, &out)

			ev, err := env.Server.DB.Client.AuditEvent.Query().
				Where(auditevent.Action("order.start"), auditevent.ObjectID(out.StartProcess.ID)).
				Only(systemCtx())
			if err != nil {
				t.Fatal(err)
			}
			if ev.RemoteAddr != tc.want {
				t.Errorf("order.start recorded from %q, want %q", ev.RemoteAddr, tc.want)
			}
		})
	}
}

// TestInvalidTrustedProxy: a wrong entry stops the server at start and is named.
func TestInvalidTrustedProxy(t *testing.T) {
	_, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), TrustedProxies: []string{"10.0.0.0/8", "10.0.0.0/33"},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), `"10.0.0.0/33"`) {
		t.Fatalf("server.New = %v, want an error naming 10.0.0.0/33", err)
	}
}
