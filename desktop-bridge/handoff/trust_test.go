package handoff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrustFile(t *testing.T) {
	t.Run("ok/missing file trusts nobody, Trust creates it 0600", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vscard", "bridge.yaml")
		tf := NewTrustFile(path)
		if ok, err := tf.Trusted("https://a.example"); ok || err != nil {
			t.Fatalf("Trusted = %v, %v", ok, err)
		}
		if err := tf.Trust("https://A.example:443/"); err != nil {
			t.Fatal(err)
		}
		if err := tf.Trust("https://a.example"); err != nil { // no duplicate
			t.Fatal(err)
		}
		if ok, _ := NewTrustFile(path).Trusted("https://a.example"); !ok {
			t.Error("not trusted after Trust, read back")
		}
		if ok, _ := tf.Trusted("https://b.example"); ok {
			t.Error("another server is trusted")
		}
		list, _ := tf.Servers()
		if len(list) != 1 {
			t.Errorf("servers %q", list)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v, %v", fi.Mode(), err)
		}
	})
	t.Run("ok/other settings survive a write", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bridge.yaml")
		os.WriteFile(path, []byte("log_level: debug\ntrusted_servers:\n  - https://a.example\n"), 0o600)
		if err := NewTrustFile(path).Trust("http://127.0.0.1:8080"); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		for _, want := range []string{"log_level: debug", "https://a.example", "http://127.0.0.1:8080"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("file lacks %q:\n%s", want, b)
			}
		}
	})
	for _, tt := range []struct{ name, content string }{
		{"error/not a list", "trusted_servers: https://a.example\n"},
		{"error/not a URL", "trusted_servers:\n  - ftp://a.example\n"},
		{"error/plain http elsewhere", "trusted_servers:\n  - http://a.example\n"},
		{"error/not YAML", "trusted_servers: [\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bridge.yaml")
			os.WriteFile(path, []byte(tt.content), 0o600)
			if ok, err := NewTrustFile(path).Trusted("https://a.example"); err == nil || ok {
				t.Errorf("Trusted = %v, %v; want an error", ok, err)
			}
		})
	}
}
