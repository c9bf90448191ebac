package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/viewer"
)

// The operations of one order, as the portal and the desktop bridge send them.
const (
	qStart  = `mutation { startProcess { id state } }`
	qNext   = `mutation($id: ID!) { nextStep(orderId: $id) { order { state } handoff { url } } }`
	qClaim  = `mutation($id: ID!, $token: String!) { claimOrder(orderId: $id, token: $token, device: {reader: "Virtual PCD 00 00", host: "bench"}) { sessionToken card { serial certificates { template slot algorithm } } } }`
	qCreate = `mutation($id: ID!) { reportCardCreation(orderId: $id) { state } }`
	qSubmit = `mutation($id: ID!, $keys: [KeySubmission!]!) { submitCardKeys(orderId: $id, keys: $keys) { serial } }`
	qReady  = `mutation($id: ID!, $serial: String!) { confirmCardReady(orderId: $id, serial: $serial, device: {reader: "Virtual PCD 00 00"}) { state } }`
)

const (
	// enrolWorkers is how many orders are in flight at once.
	enrolWorkers = 32
	// enrolUsers is how many people enrol: each may have one order in progress and start
	// 20 at once (then one every 3 s), so a run of a few thousand orders needs hundreds.
	enrolUsers = 400
)

// BenchmarkEnrolment runs complete orders (start, hand-off, claim, card created, two
// software keys certified, card ready, finish) through the GraphQL API, many at once.
func BenchmarkEnrolment(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			env := startServer(b, backend, withUsers(b, enrolUsers), func(c *server.Config) {
				// Per-user anti-abuse limits are not what is measured here.
				c.Limits.StartsPerMinute, c.Limits.StartBurst = 1e6, 1e6
			})
			pool := pooledClient(2 * enrolWorkers)
			users := make([]*servertest.Client, enrolUsers)
			for i := range users {
				users[i] = env.SignIn(b, servertest.Credentials{Username: benchUser(i), Password: "pw"})
				users[i].HTTP.Transport = pool.Transport
			}
			// Users take turns, so that none has two orders in progress at once.
			free := make(chan *servertest.Client, len(users))
			for _, u := range users {
				free <- u
			}
			b.Run("orders", func(b *testing.B) {
				spent := startCosts(b, env.Server.DB)
				load(b, enrolWorkers, "orders", func(_, _ int) error {
					u := <-free
					defer func() { free <- u }()
					return enrol(env, u, pool)
				})
				spent.report(b, b.N, "order")
			})
		})
	}
}

// enrol drives one order from start to COMPLETED: the portal's requests as user, the
// desktop bridge's through bridgeHTTP (no cookies: the bridge is another program).
func enrol(env *servertest.Env, user *servertest.Client, bridgeHTTP *http.Client) error {
	ctx := context.Background()
	var started struct{ StartProcess struct{ ID string } }
	if err := user.Do(ctx, qStart, nil, &started); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	id := started.StartProcess.ID
	var next struct {
		NextStep struct {
			Order   struct{ State string }
			Handoff *struct{ URL string }
		}
	}
	if err := user.Do(ctx, qNext, map[string]any{"id": id}, &next); err != nil || next.NextStep.Handoff == nil {
		return fmt.Errorf("next: %v", err)
	}
	link, err := url.Parse(next.NextStep.Handoff.URL)
	if err != nil {
		return fmt.Errorf("parse hand-off link: %w", err)
	}
	anon := &servertest.Client{URL: env.URL, HTTP: bridgeHTTP}
	var claim struct {
		ClaimOrder struct {
			SessionToken string
			Card         struct {
				Serial       string
				Certificates []struct{ Template, Slot, Algorithm string }
			}
		}
	}
	if err := anon.Do(ctx, qClaim, map[string]any{"id": id, "token": link.Query().Get("token")}, &claim); err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	bridge := &servertest.Client{URL: env.URL, HTTP: bridgeHTTP, Bearer: claim.ClaimOrder.SessionToken}
	if err := bridge.Do(ctx, qCreate, map[string]any{"id": id}, nil); err != nil {
		return fmt.Errorf("report card creation: %w", err)
	}
	var keys []map[string]any
	for _, c := range claim.ClaimOrder.Card.Certificates {
		csr, err := csrPEM()
		if err != nil {
			return err
		}
		keys = append(keys, map[string]any{"slot": c.Slot, "template": c.Template, "csr": csr})
	}
	if len(keys) != 2 {
		return fmt.Errorf("the options ask for %d certificates, the benchmark wants 2", len(keys))
	}
	if err := bridge.Do(ctx, qSubmit, map[string]any{"id": id, "keys": keys}, nil); err != nil {
		return fmt.Errorf("submit keys: %w", err)
	}
	if err := bridge.Do(ctx, qReady, map[string]any{"id": id, "serial": claim.ClaimOrder.Card.Serial}, nil); err != nil {
		return fmt.Errorf("confirm card ready: %w", err)
	}
	if err := user.Do(ctx, qNext, map[string]any{"id": id}, &next); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	if next.NextStep.Order.State != "COMPLETED" {
		return fmt.Errorf("order %s ended %s", id, next.NextStep.Order.State)
	}
	return nil
}

func csrPEM() (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "card key"}}, key)
	if err != nil {
		return "", fmt.Errorf("create CSR: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

// BenchmarkCAIssue has the CA check a CSR, reserve a serial, sign and record the
// certificate, several at once: the CA's own ceiling under the enrolment figures.
func BenchmarkCAIssue(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			env := startServer(b, backend)
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
			if err != nil {
				b.Fatal(err)
			}
			ctx := viewer.SystemContext(context.Background())
			b.Run("certificates", func(b *testing.B) {
				spent := startCosts(b, env.Server.DB)
				defer func() { spent.report(b, b.N, "cert") }()
				load(b, 8, "certs", func(_, i int) error {
					_, err := env.Server.CA.Issue(ctx, ca.IssueRequest{
						CSR: csr, Template: ca.Authentication, Subject: pkix.Name{CommonName: "bench"},
						UPN: "bench@vscard.test", NotAfter: time.Now().AddDate(1, 0, 0), Reference: fmt.Sprintf("bench-%d", i),
					})
					return err
				})
			})
		})
	}
}
