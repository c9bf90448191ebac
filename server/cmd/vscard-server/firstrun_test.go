package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// parse reads args as the command line would, with none of the process's VSCARD_*
// variables (the package's unit gives them through the environment).
func parse(t *testing.T, args ...string) *cli {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VSCARD_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	var c cli
	p, err := kong.New(&c, kong.Vars{"dbMaxConns": "10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestMissingInProduction: production names every setting it cannot start without, all at
// once and in order; development names none; a loopback public URL counts as not set.
func TestMissingInProduction(t *testing.T) {
	key := strings.Repeat("ab", 32)
	cases := []struct {
		name string
		args []string
		want []string // the start of each What
	}{
		{"ok/development needs nothing", nil, nil},
		{"ok/production, all given", []string{"--production", "--secret-key", key, "--oidc-issuer", "https://idp.example.org", "--public-url", "https://cards.example.org"}, nil},
		{"ok/production with the demo provider allowed", []string{"--production", "--secret-key", key, "--allow-devidp-in-production", "--public-url", "https://cards.example.org"}, nil},
		{"missing/production, nothing given", []string{"--production"}, []string{"the secret key", "the identity provider", "the public URL"}},
		{"missing/secret key only", []string{"--production", "--oidc-issuer", "https://idp.example.org", "--public-url", "https://cards.example.org"}, []string{"the secret key"}},
		{"missing/loopback public URL", []string{"--production", "--secret-key", key, "--oidc-issuer", "https://idp.example.org", "--public-url", "http://127.0.0.1:8080"}, []string{"the public URL"}},
		{"missing/localhost public URL", []string{"--production", "--secret-key", key, "--oidc-issuer", "https://idp.example.org", "--public-url", "https://vscard.localhost"}, []string{"the public URL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, append([]string{"serve"}, tc.args...)...)
			var got []string
			for _, m := range c.Serve.missingInProduction() {
				got = append(got, m.What)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("missing %q, want %d starting %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("missing[%d] = %q, want it to start %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestProductionEnvironment: the package's configuration is environment variables
// (/etc/vscard/vscard.env), so the check must see them, not only flags.
func TestProductionEnvironment(t *testing.T) {
	c := parse(t, "check")
	if m := c.Check.missingInProduction(); m != nil {
		t.Fatalf("development: missing %v", m)
	}
	t.Setenv("VSCARD_PRODUCTION", "true")
	t.Setenv("VSCARD_SECRET_KEY", strings.Repeat("0f", 32))
	t.Setenv("VSCARD_OIDC_ISSUER", "https://idp.example.org")
	var k cli
	p, err := kong.New(&k, kong.Vars{"dbMaxConns": "10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]string{"check"}); err != nil {
		t.Fatal(err)
	}
	m := k.Check.missingInProduction()
	if len(m) != 1 || !strings.HasPrefix(m[0].What, "the public URL") {
		t.Fatalf("missing %v, want only the public URL", m)
	}
}

// TestServeRefusesUnconfigured: an unconfigured production server stops before it
// creates anything in its data folder, with the error main turns into exit status 78.
func TestServeRefusesUnconfigured(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	c := parse(t, "serve", "--production", "--data-dir", data)
	stderr := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = w
	runErr := c.Serve.Run(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Stderr = stderr
	w.Close()
	var out bytes.Buffer
	if _, err := io.Copy(&out, r); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(runErr, errUnconfigured) {
		t.Fatalf("Run: %v, want errUnconfigured", runErr)
	}
	for _, want := range []string{"VSCARD_SECRET_KEY=", "VSCARD_OIDC_ISSUER=", "VSCARD_PUBLIC_URL=", "/etc/vscard/vscard.env"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the message lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data folder was created (%v)", err)
	}
}
