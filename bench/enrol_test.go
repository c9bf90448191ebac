package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/store/storetest"
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
// The portal and the bridge run in a child process (enrolmentClient), so that this
// process's CPU is the servers' alone: what instances need per order. On PostgreSQL it
// also runs two instances on one database, every request going to the next instance in
// turn as a round-robin balancer sends them, so that an order's steps cross instances
// and every instance hears of every change: what scaling out costs per order.
func BenchmarkEnrolment(b *testing.B) {
	type setup struct {
		name      string
		backend   string
		instances int
	}
	setups := []setup{{"sqlite", "sqlite", 1}}
	if storetest.Postgres() != "" {
		setups = append(setups, setup{"postgres", "postgres", 1}, setup{"postgres-2-instances", "postgres", 2})
	}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := []servertest.Option{withUsers(b, enrolUsers), func(c *server.Config) {
				// Per-user anti-abuse limits are not what is measured here.
				c.Limits.StartsPerMinute, c.Limits.StartBurst = 1e6, 1e6
			}}
			envs := []*servertest.Env{}
			if s.instances == 1 {
				envs = append(envs, startServer(b, s.backend, opts...))
			} else {
				envs = servertest.StartCluster(b, s.instances, opts...)
			}
			cfg := enrolConfig{Workers: enrolWorkers}
			for _, env := range envs {
				cfg.URLs = append(cfg.URLs, env.URL)
			}
			// The development provider signs in through one instance; sessions are in the
			// database, so every instance knows them.
			for i := range enrolUsers {
				user := envs[0].SignIn(b, servertest.Credentials{Username: benchUser(i), Password: "pw"})
				cfg.Users = append(cfg.Users, sessionCookies(user))
			}
			b.Run("orders", func(b *testing.B) {
				cfg.Orders = b.N
				spent := startCosts(b, envs[0].Server.DB)
				stopProfile := profile(b)
				b.ResetTimer()
				res, clientCPU := enrolmentClient(b, cfg)
				b.StopTimer()
				stopProfile()
				b.ReportMetric(float64(b.N)/res.Elapsed.Seconds(), "orders/s")
				reportLatency(b, res.Latencies)
				spent.report(b, b.N, "order")
				b.ReportMetric(float64(clientCPU)/float64(time.Millisecond)/float64(b.N), "client-cpu-ms/order")
			})
		})
	}
}

// enrolEnv names the configuration file of the enrolment client's child process.
const enrolEnv = "VSCARD_BENCH_ENROL_CLIENT"

// enrolConfig is what the child process gets: the instances' URLs, each user's session
// cookies (signed in by the parent), and how many orders to run how many at a time.
type enrolConfig struct {
	URLs            []string
	Users           [][]string
	Orders, Workers int
}

// enrolResult is what the child process reports.
type enrolResult struct {
	Elapsed   time.Duration
	Latencies []time.Duration
	Err       string
}

// enrolmentClient runs cfg.Orders orders from a child process and returns its result
// and the CPU the child used, start-up included.
func enrolmentClient(b *testing.B, cfg enrolConfig) (enrolResult, time.Duration) {
	b.Helper()
	dir := b.TempDir()
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnrolmentClient$", "-test.timeout=60m")
	cmd.Env = append(os.Environ(), enrolEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("enrolment client: %v\n%s", err, out)
	}
	var res enrolResult
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err == nil {
		err = json.Unmarshal(data, &res)
	}
	if err != nil {
		b.Fatalf("enrolment client's result: %v", err)
	}
	if res.Err != "" {
		b.Fatalf("enrolment client: %s", res.Err)
	}
	return res, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// TestEnrolmentClient is the portal and desktop bridge side of BenchmarkEnrolment, run in
// a child process; it does nothing in a normal test run.
func TestEnrolmentClient(t *testing.T) {
	dir := os.Getenv(enrolEnv)
	if dir == "" {
		t.Skip("runs as BenchmarkEnrolment's child process")
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg enrolConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	pool := pooledClient(2 * cfg.Workers)
	// Users take turns, so that none has two orders in progress at once.
	free := make(chan *servertest.Client, len(cfg.Users))
	for _, cookies := range cfg.Users {
		c := withCookies(cfg.URLs[0], cookies)
		c.HTTP.Transport = pool.Transport
		free <- c
	}
	var requests atomic.Uint64
	balance := func() string { return cfg.URLs[requests.Add(1)%uint64(len(cfg.URLs))] }
	elapsed, lat, err := run(cfg.Orders, 0, cfg.Workers, func(_, _ int) error {
		user := <-free
		defer func() { free <- user }()
		return enrol(balance, user, pool)
	})
	res := enrolResult{Elapsed: elapsed, Latencies: lat}
	if err != nil {
		res.Err = err.Error()
	}
	out, _ := json.Marshal(res)
	if err := os.WriteFile(filepath.Join(dir, "result.json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// enrol drives one order from start to COMPLETED: the portal's requests as user, the
// desktop bridge's through bridgeHTTP (no cookies: the bridge is another program). Each
// request goes to the instance that server names.
func enrol(server func() string, user *servertest.Client, bridgeHTTP *http.Client) error {
	ctx := context.Background()
	var started struct{ StartProcess struct{ ID string } }
	if err := user.At(server()).Do(ctx, qStart, nil, &started); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	id := started.StartProcess.ID
	var next struct {
		NextStep struct {
			Order   struct{ State string }
			Handoff *struct{ URL string }
		}
	}
	if err := user.At(server()).Do(ctx, qNext, map[string]any{"id": id}, &next); err != nil || next.NextStep.Handoff == nil {
		return fmt.Errorf("next: %v", err)
	}
	link, err := url.Parse(next.NextStep.Handoff.URL)
	if err != nil {
		return fmt.Errorf("parse hand-off link: %w", err)
	}
	anon := &servertest.Client{HTTP: bridgeHTTP}
	var claim struct {
		ClaimOrder struct {
			SessionToken string
			Card         struct {
				Serial       string
				Certificates []struct{ Template, Slot, Algorithm string }
			}
		}
	}
	if err := anon.At(server()).Do(ctx, qClaim, map[string]any{"id": id, "token": link.Query().Get("token")}, &claim); err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	bridge := &servertest.Client{HTTP: bridgeHTTP, Bearer: claim.ClaimOrder.SessionToken}
	if err := bridge.At(server()).Do(ctx, qCreate, map[string]any{"id": id}, nil); err != nil {
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
	if err := bridge.At(server()).Do(ctx, qSubmit, map[string]any{"id": id, "keys": keys}, nil); err != nil {
		return fmt.Errorf("submit keys: %w", err)
	}
	if err := bridge.At(server()).Do(ctx, qReady, map[string]any{"id": id, "serial": claim.ClaimOrder.Card.Serial}, nil); err != nil {
		return fmt.Errorf("confirm card ready: %w", err)
	}
	if err := user.At(server()).Do(ctx, qNext, map[string]any{"id": id}, &next); err != nil {
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
			ctx := viewer.AsServer(context.Background())
			b.Run("certificates", func(b *testing.B) {
				spent := startCosts(b, env.Server.DB)
				defer func() { spent.report(b, b.N, "cert") }()
				load(b, 8, "certs", func(_, i int) error {
					_, err := env.Server.CA.Issue(ctx, ca.IssueRequest{
						CSR: csr, Template: cardspec.Authentication, Subject: pkix.Name{CommonName: "bench"},
						UPN: "bench@vscard.test", NotAfter: time.Now().AddDate(1, 0, 0), Reference: fmt.Sprintf("bench-%d", i),
					})
					return err
				})
			})
		})
	}
}
