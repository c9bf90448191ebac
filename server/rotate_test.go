package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/secretbox"
	"github.com/vscard/vscard/server/servertest"
)

// TestRotateSecrets: after a key rotation the server still opens old values, and
// RotateSecrets re-seals every card so the old key can go.
func TestRotateSecrets(t *testing.T) {
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	dataDir := t.TempDir()
	dsn := servertest.Database(t)
	withKeys := func(cur secretbox.Key, prev ...secretbox.Key) servertest.Option {
		return func(c *server.Config) {
			c.DataDir, c.DatabaseURL = dataDir, dsn
			c.SecretKey = hex.EncodeToString(cur[:])
			c.PreviousSecretKeys = nil
			for _, p := range prev {
				c.PreviousSecretKeys = append(c.PreviousSecretKeys, hex.EncodeToString(p[:]))
			}
		}
	}
	env := servertest.Start(t, withKeys(oldKey))
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	o.next()
	o.mustClaim()
	sealedBefore := cardSecret(t, env)
	// The PUKs an interrupted Reset PIN left unconfirmed are re-sealed too.
	oldBox, _ := secretbox.New(oldKey)
	serial := o.claim.Card.Serial
	env.Server.DB.Client.Card.Update().
		SetPukUnconfirmed(oldBox.Seal([]byte(`["12345678"]`), "card:puk-unconfirmed:"+serial)).
		ExecX(systemCtx())
	env.Cancel()

	rotated := servertest.Start(t, withKeys(newKey, oldKey))
	n, err := rotated.Server.RotateSecrets(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("RotateSecrets = %d, %v; want 1 card", n, err)
	}
	after := cardSecret(t, rotated)
	if bytes.Equal(after, sealedBefore) {
		t.Fatal("the PUK was not re-sealed")
	}
	onlyNew, _ := secretbox.New(newKey)
	if _, err := onlyNew.Open(after, "card:puk:"+o.claim.Card.Serial); err != nil {
		t.Fatalf("the re-sealed PUK does not open with the new key alone: %v", err)
	}
	c := rotated.Server.DB.Client.Card.Query().OnlyX(systemCtx())
	if c.PukUnconfirmed == nil {
		t.Fatal("the unconfirmed PUKs are gone")
	}
	if b, err := onlyNew.Open(*c.PukUnconfirmed, "card:puk-unconfirmed:"+serial); err != nil || string(b) != `["12345678"]` {
		t.Fatalf("the re-sealed unconfirmed PUKs do not open with the new key alone: %v", err)
	}
	if n, err := rotated.Server.RotateSecrets(context.Background()); err != nil || n != 0 {
		t.Fatalf("second rotation = %d, %v; want nothing to do", n, err)
	}
}

func cardSecret(t *testing.T, env *servertest.Env) []byte {
	t.Helper()
	c, err := env.Server.DB.Client.Card.Query().Only(systemCtx())
	if err != nil {
		t.Fatal(err)
	}
	return c.Puk
}
