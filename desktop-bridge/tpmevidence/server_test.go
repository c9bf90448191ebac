package tpmevidence_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/tpmevidence"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/tpmverify"
)

// tpmSigner signs with a loaded TPM key (ECDSA P-256, SHA-256), so a CSR is made by the
// key the TPM certifies, as the TPM key store makes it.
type tpmSigner struct {
	tpm transport.TPM
	key tpm2.AuthHandle
	pub crypto.PublicKey
}

func (s *tpmSigner) Public() crypto.PublicKey { return s.pub }

func (s *tpmSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	r, err := tpm2.Sign{
		KeyHandle: s.key,
		Digest:    tpm2.TPM2BDigest{Buffer: digest},
		InScheme: tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSchemeHash{HashAlg: tpm2.TPMAlgSHA256})},
		Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
	}.Execute(s.tpm)
	if err != nil {
		return nil, err
	}
	e, err := r.Signature.Signature.ECDSA()
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(e.SignatureR.Buffer), new(big.Int).SetBytes(e.SignatureS.Buffer)})
}

func csrOf(t *testing.T, s crypto.Signer) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, s)
	if err != nil {
		t.Fatalf("make CSR: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// desktop plays the Desktop App with a TPM for one order on a server.
type desktop struct {
	t      *testing.T
	tpm    transport.TPM
	a      *tpmevidence.Attestor
	env    *servertest.Env
	id     string
	bridge *servertest.Client
	slots  []struct{ Template, Slot, Algorithm string }
	serial string
}

// begin starts an order for alice and claims it, up to the submission of keys.
func begin(t *testing.T, env *servertest.Env, tpm transport.TPM, a *tpmevidence.Attestor) *desktop {
	t.Helper()
	return beginProcess(t, env, tpm, a, "get-virtual-smart-card", "")
}

// beginProcess starts process name for alice (on her card cardID, if any) and claims it,
// up to the submission of keys.
func beginProcess(t *testing.T, env *servertest.Env, tpm transport.TPM, a *tpmevidence.Attestor, name, cardID string) *desktop {
	t.Helper()
	alice := env.SignIn(t, servertest.Alice)
	var st struct{ StartProcess struct{ ID string } }
	vars := map[string]any{"name": name}
	if cardID != "" {
		vars["card"] = cardID
	}
	alice.MustDo(t, `mutation($name: String!, $card: ID) { startProcess(name: $name, card: $card) { id } }`, vars, &st)
	d := &desktop{t: t, tpm: tpm, a: a, env: env, id: st.StartProcess.ID}
	t.Cleanup(func() {
		_ = alice.Do(context.Background(), `mutation($id: ID!) { cancelOrder(orderId: $id) { id } }`, map[string]any{"id": d.id}, nil)
	})
	var nx struct {
		NextStep struct{ Handoff struct{ URL string } }
	}
	alice.MustDo(t, `mutation($id: ID!) { nextStep(orderId: $id) { handoff { url } } }`, map[string]any{"id": d.id}, &nx)
	u, err := url.Parse(nx.NextStep.Handoff.URL)
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		ClaimOrder struct {
			SessionToken string
			Card         struct {
				Serial       string
				Certificates []struct{ Template, Slot, Algorithm string }
			}
		}
	}
	env.Anonymous().MustDo(t, `mutation($id: ID!, $token: String!) { claimOrder(orderId: $id, token: $token, device: {reader: "Virtual PCD 00 00"}) { sessionToken card { serial certificates { template slot algorithm } } } }`,
		map[string]any{"id": d.id, "token": u.Query().Get("token")}, &cl)
	d.bridge = env.Bearer(cl.ClaimOrder.SessionToken)
	d.slots, d.serial = cl.ClaimOrder.Card.Certificates, cl.ClaimOrder.Card.Serial
	if cardID == "" {
		d.bridge.MustDo(t, `mutation($id: ID!) { reportCardCreation(orderId: $id) { state } }`, map[string]any{"id": d.id}, nil)
	}
	return d
}

// finish confirms the certificates are on the card, and for a new card the person's last
// Next: the order completes.
func (d *desktop) finish() {
	d.t.Helper()
	var out struct{ ConfirmCardReady struct{ State string } }
	d.bridge.MustDo(d.t, `mutation($id: ID!, $s: String!) { confirmCardReady(orderId: $id, serial: $s, device: {reader: "Virtual PCD 00 00"}) { state } }`,
		map[string]any{"id": d.id, "s": d.serial}, &out)
	if out.ConfirmCardReady.State == "CARD_READY" {
		d.env.SignIn(d.t, servertest.Alice).MustDo(d.t, `mutation($id: ID!) { nextStep(orderId: $id) { order { state } } }`, map[string]any{"id": d.id}, nil)
	}
}

// cardID is the id of the order's card, for the processes that act on it.
func (d *desktop) cardID() string {
	d.t.Helper()
	var out struct{ Card struct{ ID string } }
	d.env.SignIn(d.t, servertest.Alice).MustDo(d.t, `query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": d.serial}, &out)
	return out.Card.ID
}

// challenge asks the server for a TPM challenge and has the TPM activate it.
func (d *desktop) challenge() []byte {
	d.t.Helper()
	id := d.a.Identity()
	var out struct {
		TpmChallenge struct{ CredentialBlob, EncryptedSecret string }
	}
	d.bridge.MustDo(d.t, `mutation($id: ID!, $i: TpmIdentityInput!) { tpmChallenge(orderId: $id, identity: $i) { credentialBlob encryptedSecret expiresAt } }`,
		map[string]any{"id": d.id, "i": map[string]any{"ekCertificate": b64(id.EKCert), "akPublic": b64(id.AKPublic)}}, &out)
	blob, _ := base64.StdEncoding.DecodeString(out.TpmChallenge.CredentialBlob)
	enc, _ := base64.StdEncoding.DecodeString(out.TpmChallenge.EncryptedSecret)
	secret, err := d.a.Activate(blob, enc)
	if err != nil {
		d.t.Fatalf("activate: %v", err)
	}
	return secret
}

// keyOpts says how one submitted key is made.
type keyOpts struct {
	noEvidence bool // the CSR comes without evidence
	notFixed   bool // the TPM key may leave the TPM
	otherCSR   bool // the CSR is of a software key, the evidence of the TPM key
}

// keys makes one TPM key per slot (one at a time: swtpm holds three objects) with its CSR
// and evidence for secret.
func (d *desktop) keys(secret []byte, o keyOpts) []map[string]any {
	d.t.Helper()
	id := d.a.Identity()
	var out []map[string]any
	for _, s := range d.slots {
		key, pub := subjectKey(d.t, d.tpm, !o.notFixed)
		var csr string
		if o.otherCSR {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			csr = csrOf(d.t, k)
		} else {
			csr = csrOf(d.t, &tpmSigner{tpm: d.tpm, key: key, pub: pub})
		}
		k := map[string]any{"slot": s.Slot, "template": s.Template, "csr": csr}
		if !o.noEvidence {
			c, err := d.a.Certify(key, secret)
			if err != nil {
				d.t.Fatalf("certify: %v", err)
			}
			k["tpmEvidence"] = map[string]any{
				"identity":    map[string]any{"ekCertificate": b64(id.EKCert), "akPublic": b64(id.AKPublic)},
				"secret":      b64(secret),
				"keyPublic":   b64(c.KeyPublic),
				"certifyInfo": b64(c.CertifyInfo),
				"signature":   b64(c.Signature),
			}
		}
		_, _ = tpm2.FlushContext{FlushHandle: key.Handle}.Execute(d.tpm)
		out = append(out, k)
	}
	return out
}

// submit sends keys and returns the certificates' PEM, or the refusal's reason.
func (d *desktop) submit(keys []map[string]any) ([]string, string) {
	d.t.Helper()
	var out struct{ SubmitCardKeys []struct{ Pem string } }
	err := d.bridge.Do(context.Background(), `mutation($id: ID!, $keys: [KeySubmission!]!) { submitCardKeys(orderId: $id, keys: $keys) { pem } }`,
		map[string]any{"id": d.id, "keys": keys}, &out)
	if err != nil {
		es, ok := err.(servertest.Errors)
		if !ok || len(es) == 0 || es.Code() != "INVALID_INPUT" {
			d.t.Fatalf("submit: %v, want INVALID_INPUT or success", err)
		}
		r, _ := es[0].Extensions["reason"].(string)
		return nil, r
	}
	var pems []string
	for _, c := range out.SubmitCardKeys {
		pems = append(pems, c.Pem)
	}
	return pems, ""
}

// protection reads the card's key protection from the card page's query and card status.
func (d *desktop) protection() string {
	d.t.Helper()
	alice := d.env.SignIn(d.t, servertest.Alice)
	var out struct {
		Card       struct{ KeyProtection string }
		CardStatus struct{ KeyProtection string }
	}
	alice.MustDo(d.t, `query($s: String!) { card(serial: $s) { keyProtection } cardStatus(serial: $s) { keyProtection } }`, map[string]any{"s": d.serial}, &out)
	if out.Card.KeyProtection != out.CardStatus.KeyProtection {
		d.t.Fatalf("card says %s, card status %s", out.Card.KeyProtection, out.CardStatus.KeyProtection)
	}
	return out.Card.KeyProtection
}

func policyOf(t *testing.T, pemCert string) []asn1.ObjectIdentifier {
	t.Helper()
	blk, _ := pem.Decode([]byte(pemCert))
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.PolicyIdentifiers
}

func setPolicy(t *testing.T, env *servertest.Env, policy string, replace ...string) {
	t.Helper()
	src := strings.Replace(options.DefaultScript, "KEY_PROTECTION = TPM_PREFERRED", "KEY_PROTECTION = "+policy, 1)
	src = strings.NewReplacer(replace...).Replace(src)
	env.SignIn(t, servertest.Admin).MustDo(t, `mutation($s: String!) { updateOptionScript(source: $s) { name } }`, map[string]any{"s": src}, nil)
}

func rootsFile(t *testing.T, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	p := filepath.Join(t.TempDir(), "tpm-roots.pem")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServerChecksTPMEvidence runs the Desktop App's side of an order against a real
// server with swtpm: the server accepts what it should and refuses the rest with reasons.
func TestServerChecksTPMEvidence(t *testing.T) {
	f, tpm := setup(t)
	root, inter := tpmtest.LocalCA(t)
	clock := testclock.New()
	env := servertest.Start(t, servertest.WithClock(clock), func(c *server.Config) { c.TPMRootsFile = rootsFile(t, root, inter) })
	stranger := servertest.Start(t, func(c *server.Config) { c.TPMRootsFile = rootsFile(t, selfSigned(t)) })

	t.Run("ok/TPM required, evidence valid", func(t *testing.T) {
		setPolicy(t, env, "TPM")
		d := begin(t, env, tpm, f.a)
		pems, reason := d.submit(d.keys(d.challenge(), keyOpts{}))
		if reason != "" {
			t.Fatalf("refused: %s", reason)
		}
		for _, p := range pems {
			if got := policyOf(t, p); len(got) != 1 || !got[0].Equal(enroll.OIDKeyEKCertVerified) {
				t.Errorf("certificate policies %v, want [%v]", got, enroll.OIDKeyEKCertVerified)
			}
		}
		if got := d.protection(); got != "TPM_ATTESTED" {
			t.Errorf("card keys held as %s, want TPM_ATTESTED", got)
		}
	})
	t.Run("ok/TPM preferred, no evidence", func(t *testing.T) {
		setPolicy(t, env, "TPM_PREFERRED")
		d := begin(t, env, tpm, f.a)
		pems, reason := d.submit(d.keys(nil, keyOpts{noEvidence: true}))
		if reason != "" {
			t.Fatalf("refused: %s", reason)
		}
		if got := policyOf(t, pems[0]); len(got) != 0 {
			t.Errorf("software key's certificate has policies %v", got)
		}
		if got := d.protection(); got != "SOFTWARE" {
			t.Errorf("card keys held as %s, want SOFTWARE", got)
		}
	})
	t.Run("ok/TPM preferred, unknown manufacturer", func(t *testing.T) {
		setPolicy(t, stranger, "TPM_PREFERRED")
		d := begin(t, stranger, tpm, f.a)
		pems, reason := d.submit(d.keys(d.challenge(), keyOpts{}))
		if reason != "" {
			t.Fatalf("refused: %s", reason)
		}
		if got := policyOf(t, pems[0]); len(got) != 1 || !got[0].Equal(enroll.OIDKeyEKTrustedOnUse) {
			t.Errorf("certificate policies %v, want [%v]", got, enroll.OIDKeyEKTrustedOnUse)
		}
		if got := d.protection(); got != "TPM" {
			t.Errorf("card keys held as %s, want TPM", got)
		}
	})

	refusals := []struct {
		name string
		env  *servertest.Env
		run  func(d *desktop) string
		want string
	}{
		{"error/missing evidence", env, func(d *desktop) string {
			_, r := d.submit(d.keys(nil, keyOpts{noEvidence: true}))
			return r
		}, "TPM_EVIDENCE_MISSING"},
		{"error/wrong key", env, func(d *desktop) string {
			_, r := d.submit(d.keys(d.challenge(), keyOpts{otherCSR: true}))
			return r
		}, "TPM_KEY_MISMATCH"},
		{"error/key not fixed to the TPM", env, func(d *desktop) string {
			_, r := d.submit(d.keys(d.challenge(), keyOpts{notFixed: true}))
			return r
		}, "TPM_KEY_NOT_FIXED"},
		{"error/wrong root", stranger, func(d *desktop) string {
			_, r := d.submit(d.keys(d.challenge(), keyOpts{}))
			return r
		}, "TPM_ROOT_UNKNOWN"},
		{"error/replayed challenge", env, func(d *desktop) string {
			keys := d.keys(d.challenge(), keyOpts{})
			// The first answer spends the challenge even when refused (here: a slot
			// submitted twice is refused after the evidence was checked).
			first := append(keys[:1:1], keys...)
			if _, r := d.submit(first); r != "" {
				d.t.Fatalf("first submission refused with reason %q, want a plain INVALID_INPUT", r)
			}
			_, r := d.submit(keys)
			return r
		}, "TPM_CHALLENGE_FAILED"},
		{"error/expired challenge", env, func(d *desktop) string {
			keys := d.keys(d.challenge(), keyOpts{})
			clock.Advance(tpmverify.ChallengeTTL)
			_, r := d.submit(keys)
			return r
		}, "TPM_CHALLENGE_FAILED"},
		{"error/no challenge asked", env, func(d *desktop) string {
			_, r := d.submit(d.keys(make([]byte, 32), keyOpts{}))
			return r
		}, "TPM_CHALLENGE_FAILED"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			setPolicy(t, tc.env, "TPM")
			d := begin(t, tc.env, tpm, f.a)
			if got := tc.run(d); got != tc.want {
				t.Fatalf("reason %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCardIsHeldAsItsWeakestKey: a TPM card that gets software keys (from a Desktop App
// without a TPM, under TPM_PREFERRED) is SOFTWARE, and stays so while a software key is
// in use, however many TPM keys come later; the audit log says why.
func TestCardIsHeldAsItsWeakestKey(t *testing.T) {
	f, tpm := setup(t)
	root, inter := tpmtest.LocalCA(t)
	env := servertest.Start(t, func(c *server.Config) { c.TPMRootsFile = rootsFile(t, root, inter) })
	setPolicy(t, env, "TPM_PREFERRED")

	d := begin(t, env, tpm, f.a)
	if _, r := d.submit(d.keys(d.challenge(), keyOpts{})); r != "" {
		t.Fatalf("refused: %s", r)
	}
	d.finish()
	if got := d.protection(); got != "TPM_ATTESTED" {
		t.Fatalf("new TPM card held as %s, want TPM_ATTESTED", got)
	}
	serial, id := d.serial, d.cardID()
	// want is how the card is held once the order issued (a renewal's old keys still in
	// use) and once it completed.
	step := func(name string, software bool, want ...string) {
		t.Helper()
		o := beginProcess(t, env, tpm, f.a, name, id)
		keys := o.keys(nil, keyOpts{noEvidence: true})
		if !software {
			keys = o.keys(o.challenge(), keyOpts{})
		}
		if _, r := o.submit(keys); r != "" {
			t.Fatalf("%s refused: %s", name, r)
		}
		if got := o.protection(); got != want[0] {
			t.Fatalf("%s (software keys %v): card held as %s once issued, want %s", name, software, got, want[0])
		}
		o.finish()
		if got := o.protection(); got != want[1] {
			t.Fatalf("%s (software keys %v): card held as %s once completed, want %s", name, software, got, want[1])
		}
	}

	// Renewed from a Desktop App without a TPM: every current key is software.
	step("renew-virtual-smart-card", true, "SOFTWARE", "SOFTWARE")
	// Renewed again with the TPM: the software keys are in use until the new ones are on
	// the card, then superseded, and the card is strong again.
	step("renew-virtual-smart-card", false, "SOFTWARE", "TPM_ATTESTED")
	// An encryption key added without a TPM ...
	setPolicy(t, env, "TPM_PREFERRED", "ENCRYPTION: None", "ENCRYPTION: ECCP256")
	step("issue-certificates-to-virtual-smart-card", true, "SOFTWARE", "SOFTWARE")
	// ... keeps the card SOFTWARE through a TPM renewal, which keeps the encryption key.
	step("renew-virtual-smart-card", false, "SOFTWARE", "SOFTWARE")

	var audit struct {
		AuditEvents struct {
			Edges []struct {
				Node struct {
					Action  string
					Details map[string]any
				}
			}
		}
	}
	env.SignIn(t, servertest.Admin).MustDo(t, `{ auditEvents(first: 100) { edges { node { action details } } } }`, nil, &audit)
	var downgraded, renewed bool
	for _, e := range audit.AuditEvents.Edges {
		n := e.Node
		if n.Action == "certificate.issue" && n.Details["keyProtection"] == "SOFTWARE" &&
			n.Details["cardKeyProtection"] == "SOFTWARE" && n.Details["cardKeyProtectionWas"] == "TPM_ATTESTED" {
			downgraded = true
		}
		if n.Action == "card.renew" && n.Details["keyProtection"] == "SOFTWARE" {
			renewed = true
		}
	}
	if !downgraded || !renewed {
		t.Errorf("audit of card %s: a software key's issue says the card became SOFTWARE: %v; a renewal says how the card is held: %v", serial, downgraded, renewed)
	}
}

// TestTPMChallengeIsRateLimited: a bridge session, and a person over all their sessions,
// get only so many TPM challenges; then RATE_LIMITED until the clock refills the bucket.
func TestTPMChallengeIsRateLimited(t *testing.T) {
	f, tpm := setup(t)
	clock := testclock.New()
	env := servertest.Start(t, servertest.WithClock(clock), func(c *server.Config) {
		c.Limits.TPMChallengesPerMinute, c.Limits.TPMChallengeBurst = 1, 3
		c.Limits.TPMChallengesPerPersonPerMinute, c.Limits.TPMChallengePersonBurst = 1, 5
	})
	id := f.a.Identity()
	ask := func(d *desktop) string {
		t.Helper()
		err := d.bridge.Do(context.Background(), `mutation($id: ID!, $i: TpmIdentityInput!) { tpmChallenge(orderId: $id, identity: $i) { expiresAt } }`,
			map[string]any{"id": d.id, "i": map[string]any{"ekCertificate": b64(id.EKCert), "akPublic": b64(id.AKPublic)}}, nil)
		if err == nil {
			return ""
		}
		es, ok := err.(servertest.Errors)
		if !ok {
			t.Fatalf("tpmChallenge: %v", err)
		}
		return es.Code()
	}
	cancel := func(d *desktop) {
		env.SignIn(t, servertest.Alice).MustDo(t, `mutation($id: ID!) { cancelOrder(orderId: $id) { id } }`, map[string]any{"id": d.id}, nil)
	}

	first := begin(t, env, tpm, f.a)
	for i := range 3 {
		if got := ask(first); got != "" {
			t.Fatalf("challenge %d of the session's 3: %s", i+1, got)
		}
	}
	if got := ask(first); got != "RATE_LIMITED" {
		t.Fatalf("the session's 4th challenge: %q, want RATE_LIMITED", got)
	}
	cancel(first)

	// A new session has its own bucket, but the person has only 2 of 5 left.
	second := begin(t, env, tpm, f.a)
	for i := range 2 {
		if got := ask(second); got != "" {
			t.Fatalf("person's challenge %d of 5: %s", i+4, got)
		}
	}
	if got := ask(second); got != "RATE_LIMITED" {
		t.Fatalf("the person's 6th challenge: %q, want RATE_LIMITED", got)
	}
	clock.Advance(time.Minute)
	if got := ask(second); got != "" {
		t.Fatalf("a minute later: %s", got)
	}
}
