// Package portaltest plays the person in the Self-Service portal for the desktop
// bridge's tests: on a real vscard server (server/servertest) it signs in through the
// development identity provider, starts orders, reads the hand-off link, cancels and
// finishes orders and reads card status, over GraphQL as the browser app does.
package portaltest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/servertest"
)

// Server is a vscard server serving on a loopback port until the test ends.
type Server struct {
	// URL is the server's public URL, e.g. http://127.0.0.1:40123.
	URL string
	// Env is the running server, for checks behind the API.
	Env *servertest.Env
}

// Start runs a vscard server with the development defaults. Its rate limits are
// raised: the tests and benchmarks start many orders as one person. opts change the
// server's configuration further (e.g. its TPM roots).
func Start(tb testing.TB, opts ...servertest.Option) *Server {
	tb.Helper()
	env := servertest.Start(tb, append([]servertest.Option{func(c *server.Config) {
		c.Limits = enroll.Limits{ClaimsPerMinute: 6000, ClaimBurst: 1000, StartsPerMinute: 6000, StartBurst: 1000}
	}}, opts...)...)
	return &Server{URL: env.URL, Env: env}
}

// StartTPM runs a server that trusts swtpm's local CA as a TPM manufacturer
// (--tpm-roots, so the EK certificates of tpmtest's TPMs verify), with the option
// script's KEY_PROTECTION = policy.
func StartTPM(tb testing.TB, policy string) *Server {
	tb.Helper()
	root, inter := tpmtest.LocalCA(tb)
	var roots []byte
	for _, c := range []*x509.Certificate{root, inter} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	p := filepath.Join(tb.TempDir(), "tpm-roots.pem")
	if err := os.WriteFile(p, roots, 0o600); err != nil {
		tb.Fatal(err)
	}
	srv := Start(tb, func(c *server.Config) { c.TPMRootsFile = p })
	srv.SetKeyProtection(tb, policy)
	return srv
}

// Portal is a person signed in to the Self-Service portal.
type Portal struct {
	tb testing.TB
	c  *servertest.Client
}

// SignIn signs in as alice, the active demo user.
func (s *Server) SignIn(tb testing.TB) *Portal {
	tb.Helper()
	return &Portal{tb: tb, c: s.Env.SignIn(tb, servertest.Alice)}
}

// GraphQL runs an operation as the signed-in person and decodes its data into out. A
// GraphQL error fails the test.
func (p *Portal) GraphQL(query string, vars map[string]any, out any) {
	p.tb.Helper()
	p.c.MustDo(p.tb, query, vars, out)
}

// TryGraphQL is GraphQL that returns errors (servertest.Errors for GraphQL errors)
// instead of failing the test.
func (p *Portal) TryGraphQL(query string, vars map[string]any, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.c.Do(ctx, query, vars, out)
}

// Order is an order as the portal sees it.
type Order struct {
	ID               string
	State            string
	VerificationCode string
	FailureReason    string
}

// StartOrder starts "Get virtual smart card", clicks Next and returns the order and the
// vscard:// link of the Open Desktop App button.
func (p *Portal) StartOrder() (Order, string) {
	p.tb.Helper()
	var started struct{ StartProcess Order }
	p.GraphQL(`mutation { startProcess { id state } }`, nil, &started)
	var next struct {
		NextStep struct {
			Order   Order
			Handoff struct{ URL string }
		}
	}
	p.GraphQL(`mutation($id: ID!) { nextStep(orderId: $id) { order { id state verificationCode } handoff { url } } }`,
		map[string]any{"id": started.StartProcess.ID}, &next)
	if next.NextStep.Order.State != "AWAITING_DESKTOP_APP" || next.NextStep.Handoff.URL == "" {
		p.tb.Fatalf("after Next: %+v", next.NextStep)
	}
	return next.NextStep.Order, next.NextStep.Handoff.URL
}

// Next clicks Next on the order.
func (p *Portal) Next(orderID string) Order {
	p.tb.Helper()
	var next struct{ NextStep struct{ Order Order } }
	p.GraphQL(`mutation($id: ID!) { nextStep(orderId: $id) { order { id state } } }`, map[string]any{"id": orderID}, &next)
	return next.NextStep.Order
}

// Cancel clicks Cancel on the order.
func (p *Portal) Cancel(orderID string) Order {
	p.tb.Helper()
	var c struct{ CancelOrder Order }
	p.GraphQL(`mutation($id: ID!) { cancelOrder(orderId: $id, reason: "changed my mind") { id state } }`, map[string]any{"id": orderID}, &c)
	return c.CancelOrder
}

// Order reads the order.
func (p *Portal) Order(orderID string) Order {
	p.tb.Helper()
	var o struct{ Order Order }
	p.GraphQL(`query($id: ID!) { order(id: $id) { id state verificationCode failureReason } }`, map[string]any{"id": orderID}, &o)
	return o.Order
}

// CardStatus is what cardStatus tells about a card.
type CardStatus struct {
	Serial       string
	State        string
	Certificates []struct {
		Serial, Slot, Template, State string
	}
}

// CardStatus reads a card's status.
func (p *Portal) CardStatus(serial string) CardStatus {
	p.tb.Helper()
	var c struct{ CardStatus CardStatus }
	p.GraphQL(`query($s: String!) { cardStatus(serial: $s) { serial state certificates { serial slot template state } } }`,
		map[string]any{"s": serial}, &c)
	return c.CardStatus
}

// SetKeyProtection has an administrator set the option script's KEY_PROTECTION
// (TPM, TPM_PREFERRED or SOFTWARE) in the default script.
func (s *Server) SetKeyProtection(tb testing.TB, policy string) {
	tb.Helper()
	src := strings.Replace(options.DefaultScript, "KEY_PROTECTION = TPM_PREFERRED", "KEY_PROTECTION = "+policy, 1)
	if src == options.DefaultScript && policy != "TPM_PREFERRED" {
		tb.Fatal("the default option script no longer sets KEY_PROTECTION = TPM_PREFERRED")
	}
	s.Env.SignIn(tb, servertest.Admin).MustDo(tb, `mutation($s: String!) { updateOptionScript(source: $s) { name } }`, map[string]any{"s": src}, nil)
}

// KeyProtection reads how the card's keys are held, as the card page shows it.
func (p *Portal) KeyProtection(serial string) string {
	p.tb.Helper()
	var c struct {
		Card struct{ KeyProtection string }
	}
	p.GraphQL(`query($s: String!) { card(serial: $s) { keyProtection } }`, map[string]any{"s": serial}, &c)
	return c.Card.KeyProtection
}

// WaitState polls the order until it is in state or the timeout passes.
func (p *Portal) WaitState(orderID, state string, timeout time.Duration) Order {
	p.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		o := p.Order(orderID)
		if o.State == state || time.Now().After(deadline) {
			return o
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartOnCard starts the card process name (change-pin, ...) on the person's card with
// serial from the Cards page's Possible actions, clicks Next and returns the order and
// the vscard:// link of the Open Desktop App button.
func (p *Portal) StartOnCard(name, serial string) (Order, string) {
	p.tb.Helper()
	var c struct{ Card struct{ ID string } }
	p.GraphQL(`query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": serial}, &c)
	var started struct{ StartProcess Order }
	p.GraphQL(`mutation($n: String!, $c: ID) { startProcess(name: $n, card: $c) { id state } }`,
		map[string]any{"n": name, "c": c.Card.ID}, &started)
	var next struct {
		NextStep struct {
			Order   Order
			Handoff struct{ URL string }
		}
	}
	p.GraphQL(`mutation($id: ID!) { nextStep(orderId: $id) { order { id state verificationCode } handoff { url } } }`,
		map[string]any{"id": started.StartProcess.ID}, &next)
	if next.NextStep.Order.State != "AWAITING_DESKTOP_APP" || next.NextStep.Handoff.URL == "" {
		p.tb.Fatalf("after Next: %+v", next.NextStep)
	}
	return next.NextStep.Order, next.NextStep.Handoff.URL
}
