package handoff

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/servertest"
)

const pkcs11Module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

// lockedBuffer collects a log written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestResetPIN blocks a card's PIN with three wrong PINs through OpenSC's pkcs11-tool,
// resets it through a real server, pcscd and vpcd, and signs with the new PIN through
// pkcs11-tool; then interrupts runs where the PUK is at stake and checks that the server
// can still reset the card afterwards, and that no PUK reached a log or the portal.
func TestResetPIN(t *testing.T) {
	env := pcsctest.Start(t, 2) // the second reader for a card with a blocked PUK
	serverLog := &lockedBuffer{}
	senv := servertest.StartLogged(t, serverLog, func(c *server.Config) {
		c.Limits = enroll.Limits{ClaimsPerMinute: 6000, ClaimBurst: 1000, StartsPerMinute: 6000, StartBurst: 1000}
	})
	srv := &portaltest.Server{URL: senv.URL, Env: senv}
	alice := srv.SignIn(t)
	bridgeLog := &lockedBuffer{}
	trust := &memTrust{}
	trust.Trust(srv.URL)
	host := newTestHost(t, env)

	var orders []string // the reset orders, for the leak check
	var pukMu sync.Mutex
	var puks []string // every PUK the server released, for the leak check
	run := func(t *testing.T, link string, p *scriptedPrompter, h *resetPIN) (*Result, error) {
		t.Helper()
		l, err := ParseLink(link)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		handlers := Processes()
		if h != nil {
			handlers[ResetPIN] = func() Handler { return h }
		}
		logger := slog.New(slog.NewTextHandler(bridgeLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
		return Run(ctx, Config{Trust: trust, Prompter: p, Cards: host, Host: "test-host", Version: "test",
			Logger: logger, Handlers: handlers}, l)
	}
	record := func(next func(context.Context, []string, string) error) func(context.Context, []string, string) error {
		return func(ctx context.Context, candidates []string, fresh string) error {
			pukMu.Lock()
			puks = append(puks, append(slices.Clone(candidates), fresh)...)
			pukMu.Unlock()
			if next != nil {
				return next(ctx, candidates, fresh)
			}
			return nil
		}
	}

	// A card made the usual way.
	order, link := alice.StartOrder()
	res, err := run(t, link, newPrompter(false, goodPIN), nil)
	if err != nil {
		t.Fatalf("get card: %v", err)
	}
	if got := alice.Next(order.ID).State; got != "COMPLETED" {
		t.Fatalf("get card: order %s", got)
	}
	var cardQ struct{ Card struct{ ID string } }
	alice.GraphQL(`query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": res.Serial}, &cardQ)
	serial, _ := strconv.ParseUint(res.Serial, 10, 32)

	startReset := func(t *testing.T) (string, string) {
		t.Helper()
		var started struct{ StartProcess struct{ ID string } }
		alice.GraphQL(`mutation($c: ID!) { startProcess(name: "reset-pin", card: $c) { id } }`, map[string]any{"c": cardQ.Card.ID}, &started)
		var next struct {
			NextStep struct{ Handoff struct{ URL string } }
		}
		alice.GraphQL(`mutation($id: ID!) { nextStep(orderId: $id) { handoff { url } } }`, map[string]any{"id": started.StartProcess.ID}, &next)
		orders = append(orders, started.StartProcess.ID)
		return started.StartProcess.ID, next.NextStep.Handoff.URL
	}
	pinState := func(t *testing.T) (tries int, blocked bool) {
		t.Helper()
		var q struct {
			Card struct {
				PinState *struct {
					TriesLeft int
					Blocked   bool
				}
			}
		}
		alice.GraphQL(`query($s: String!) { card(serial: $s) { pinState { triesLeft blocked } } }`, map[string]any{"s": res.Serial}, &q)
		if q.Card.PinState == nil {
			return -1, false
		}
		return q.Card.PinState.TriesLeft, q.Card.PinState.Blocked
	}
	wrongPIN := func(t *testing.T) {
		t.Helper()
		out, err := env.Run(t, "pkcs11-tool", "--module", pkcs11Module, "-l", "--pin", "999999", "-O")
		if err == nil {
			t.Fatalf("login with a wrong PIN succeeded:\n%s", out)
		}
	}
	blockPIN := func(t *testing.T) {
		t.Helper()
		for range 3 {
			wrongPIN(t)
		}
		if n := retries(t, res.Reader); n != 0 {
			t.Fatalf("after three wrong PINs the card has %d tries left", n)
		}
	}
	reset := func(t *testing.T, pin string, h *resetPIN) {
		t.Helper()
		if h == nil {
			h = &resetPIN{}
		}
		h.afterRelease = record(h.afterRelease)
		id, link := startReset(t)
		p := newPrompter(false, "123456", pin)
		if _, err := run(t, link, p, h); err != nil {
			t.Fatalf("reset PIN: %v", err)
		}
		if len(p.asked) != 2 || p.asked[0].Mode != PINUnblock || len(p.asked[1].Problems) == 0 {
			t.Errorf("asked %+v; want the unblock mode, a refusal of a PIN against the policy", p.asked)
		}
		if got := alice.Order(id).State; got != "COMPLETED" {
			t.Fatalf("reset order %s, want COMPLETED", got)
		}
	}

	t.Run("ok/three wrong PINs block the card; Reset PIN restores it and pkcs11-tool signs with the new PIN", func(t *testing.T) {
		blockPIN(t)
		const newPIN = "730284"
		reset(t, newPIN, nil)
		if n := retries(t, res.Reader); n == 0 {
			t.Fatal("the PIN is still blocked")
		}
		if tries, blocked := pinState(t); blocked || tries == 0 {
			t.Errorf("the server's PIN state: %d tries, blocked %v", tries, blocked)
		}
		signWithPKCS11(t, env, res, newPIN)
	})

	t.Run("ok/the card reports a blocked PIN to the server", func(t *testing.T) {
		blockPIN(t)
		id, link := startReset(t)
		_, err := run(t, link, newPrompter(false), nil) // cancels at the PIN prompt
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("run: %v, want cancelled", err)
		}
		if tries, blocked := pinState(t); !blocked || tries != 0 {
			t.Errorf("the server's PIN state: %d tries, blocked %v; want blocked", tries, blocked)
		}
		if got := alice.Order(id).State; got != "CANCELLED" {
			t.Errorf("order %s", got)
		}
	})

	t.Run("ok/cancelled after the PUK was released: the card is unchanged and the server's PUK still resets it", func(t *testing.T) {
		var id string
		h := &resetPIN{afterRelease: func(ctx context.Context, _ []string, _ string) error {
			alice.Cancel(id)
			<-ctx.Done()
			return ctx.Err()
		}}
		h.afterRelease = record(h.afterRelease)
		var link string
		id, link = startReset(t)
		_, err := run(t, link, newPrompter(false, "592038"), h)
		if !errors.Is(err, ErrCancelledByServer) && !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("run: %v, want the order ended on the server", err)
		}
		if n := retries(t, res.Reader); n != 0 {
			t.Fatalf("the cancelled reset changed the card: %d tries", n)
		}
		reset(t, "592038", nil)
		signWithPKCS11(t, env, res, "592038")
	})

	t.Run("ok/the bridge dies between SetPUK and its confirmation: the server's PUKs still reset the card", func(t *testing.T) {
		blockPIN(t)
		h := &resetPIN{afterSetPUK: func(context.Context) error { return errors.New("the Desktop App died") }}
		h.afterRelease = record(nil)
		id, link := startReset(t)
		if _, err := run(t, link, newPrompter(false, "615094"), h); err == nil {
			t.Fatal("run succeeded")
		}
		if got := alice.Order(id).State; got != "FAILED" {
			t.Fatalf("order %s, want FAILED", got)
		}
		// The card took the fresh PUK the server never confirmed.
		blockPIN(t)
		reset(t, "615094", nil)
		// And the PUK the server kept now is the one on the card.
		blockPIN(t)
		reset(t, "615095", nil)
		signWithPKCS11(t, env, res, "615095")
	})

	t.Run("error/a blocked PUK: the card cannot be reset, the person is told so and the server learns it", func(t *testing.T) {
		// A second card, its PUK blocked by wrong tries, its PIN by wrong PINs.
		order, link := alice.StartOrder()
		res2, err := run(t, link, newPrompter(false, goodPIN), nil)
		if err != nil {
			t.Fatalf("get card: %v", err)
		}
		alice.Next(order.ID)
		yk, err := piv.Open(res2.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			yk.Unblock("00000000", "123456")
		}
		for range 3 {
			yk.VerifyPIN("999999")
		}
		yk.Close()
		var q struct{ Card struct{ ID string } }
		alice.GraphQL(`query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": res2.Serial}, &q)
		var started struct{ StartProcess struct{ ID string } }
		alice.GraphQL(`mutation($c: ID!) { startProcess(name: "reset-pin", card: $c) { id } }`, map[string]any{"c": q.Card.ID}, &started)
		var next struct {
			NextStep struct{ Handoff struct{ URL string } }
		}
		alice.GraphQL(`mutation($id: ID!) { nextStep(orderId: $id) { handoff { url } } }`, map[string]any{"id": started.StartProcess.ID}, &next)
		h := &resetPIN{}
		h.afterRelease = record(nil)
		_, err = run(t, next.NextStep.Handoff.URL, newPrompter(false, "730284"), h)
		if CodeOf(err) != CodePUKBlocked || Describe(err) != Words("en", CodePUKBlocked) {
			t.Fatalf("run: %v, want %s", err, CodePUKBlocked)
		}
		if o := alice.Order(started.StartProcess.ID); o.State != "FAILED" {
			t.Errorf("order %s, want FAILED", o.State)
		}
		var st struct {
			Card struct {
				PinState struct{ Blocked, PukBlocked bool }
			}
		}
		alice.GraphQL(`query($s: String!) { card(serial: $s) { pinState { blocked pukBlocked } } }`, map[string]any{"s": res2.Serial}, &st)
		if !st.Card.PinState.Blocked || !st.Card.PinState.PukBlocked {
			t.Errorf("the server's PIN state %+v, want PIN and PUK blocked", st.Card.PinState)
		}
		host.DeleteCard(uint32(mustSerial(t, res2.Serial)))
	})

	t.Run("ok/an operator starts Reset PIN for the person, who completes it in the Desktop App", func(t *testing.T) {
		blockPIN(t)
		olga := senv.SignIn(t, servertest.Olga) // help desk
		var started struct {
			StartProcess struct {
				ID   string
				User struct{ Username string }
			}
		}
		olga.MustDo(t, `mutation($c: ID!) { startProcess(name: "reset-pin", card: $c, reason: "forgot the PIN") { id user { username } } }`,
			map[string]any{"c": cardQ.Card.ID}, &started)
		if started.StartProcess.User.Username != "alice" {
			t.Fatalf("the operator's order is for %q, want the card's owner", started.StartProcess.User.Username)
		}
		id := started.StartProcess.ID
		orders = append(orders, id)
		var next struct {
			NextStep struct{ Handoff struct{ URL string } }
		}
		olga.MustDo(t, `mutation($id: ID!) { nextStep(orderId: $id) { handoff { url } } }`, map[string]any{"id": id}, &next)
		if next.NextStep.Handoff.URL == "" {
			t.Fatal("no hand-off link for the operator to give")
		}
		// The person opens the link the operator gave them on their own computer.
		h := &resetPIN{afterRelease: record(nil)}
		const newPIN = "406183"
		if _, err := run(t, next.NextStep.Handoff.URL, newPrompter(false, newPIN), h); err != nil {
			t.Fatalf("reset PIN: %v", err)
		}
		if got := alice.Order(id).State; got != "COMPLETED" {
			t.Fatalf("the operator's reset order is %s for its owner, want COMPLETED", got)
		}
		if n := retries(t, res.Reader); n == 0 {
			t.Fatal("the PIN is still blocked")
		}
		signWithPKCS11(t, env, res, newPIN)
	})

	t.Run("ok/no PUK in a log or in the portal's answers", func(t *testing.T) {
		answers := []string{serverLog.String(), bridgeLog.String()}
		var q struct{ Card map[string]any }
		alice.GraphQL(`query($s: String!) { card(serial: $s) { id serial state pinState { triesLeft blocked pukBlocked reportedAt } } }`,
			map[string]any{"s": res.Serial}, &q)
		answers = append(answers, fmt.Sprint(q))
		for _, id := range orders {
			var o struct{ Order map[string]any }
			alice.GraphQL(`query($id: ID!) { order(id: $id) { id state failureReason steps { state at note } } }`, map[string]any{"id": id}, &o)
			answers = append(answers, fmt.Sprint(o))
		}
		portal := strings.Join(answers, "\n")
		pukMu.Lock()
		defer pukMu.Unlock()
		if len(puks) < 6 {
			t.Fatalf("only %d PUKs released", len(puks))
		}
		for _, puk := range puks {
			if strings.Contains(portal, puk) {
				t.Errorf("a PUK appears in a log or a portal answer")
			}
		}
		if !strings.Contains(serverLog.String(), "releaseCardPuk") && !strings.Contains(serverLog.String(), "ReleaseCardPuk") {
			t.Log("the server log does not name the PUK release; the check covers its other lines")
		}
	})
	_ = serial
}

func mustSerial(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func retries(t *testing.T, reader string) int {
	t.Helper()
	yk, err := piv.Open(reader)
	if err != nil {
		t.Fatalf("open %s: %v", reader, err)
	}
	defer yk.Close()
	n, err := yk.Retries()
	if err != nil {
		t.Fatalf("read PIN tries: %v", err)
	}
	return n
}

// signWithPKCS11 signs through OpenSC's PKCS#11 module with pin and checks the signature
// against the card's authentication certificate.
func signWithPKCS11(t *testing.T, env *pcsctest.Env, res *Result, pin string) {
	t.Helper()
	dir := t.TempDir()
	in, sigPath := filepath.Join(dir, "data"), filepath.Join(dir, "sig")
	data := []byte("signed after a PIN reset")
	os.WriteFile(in, data, 0o600)
	out, err := env.Run(t, "pkcs11-tool", "--module", pkcs11Module,
		"-l", "--pin", pin, "-s", "-m", "ECDSA-SHA256", "--id", "01",
		"--signature-format", "openssl", "-i", in, "-o", sigPath)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var auth *Certificate
	for i := range res.Certificates {
		if res.Certificates[i].Slot == "9A" {
			auth = &res.Certificates[i]
		}
	}
	if auth == nil {
		t.Fatal("the card has no 9A certificate")
	}
	cert, err := parseCertificatePEM(auth.PEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Skipf("the 9A key is %T; the check signs with ECDSA", cert.PublicKey)
	}
	sig, _ := os.ReadFile(sigPath)
	digest := sha256.Sum256(data)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Error("pkcs11-tool's signature does not verify against the 9A certificate")
	}
}
