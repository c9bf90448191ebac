package main

import (
	"os"
	"testing"

	"github.com/alecthomas/kong"
)

// TestAddrFlag: with no --addr and no VSCARD_ADDR the command leaves the address to the
// server, which picks loopback while the development provider is on (server.Config.Addr);
// an address given either way is passed on as it is.
func TestAddrFlag(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"ok/none: the server decides", nil, "", ""},
		{"ok/flag", []string{"--addr", ":8080"}, "", ":8080"},
		{"ok/environment", nil, "0.0.0.0:9000", "0.0.0.0:9000"},
		{"ok/flag over environment", []string{"--addr", "127.0.0.1:7000"}, ":9000", "127.0.0.1:7000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VSCARD_ADDR", tc.env) // restored when the test ends
			if tc.env == "" {
				os.Unsetenv("VSCARD_ADDR") // unset, not empty: kong takes an empty value as given
			}
			var c cli
			p, err := kong.New(&c, kong.Vars{"dbMaxConns": "10"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := c.Serve.config().Addr; got != tc.want {
				t.Errorf("Addr %q, want %q", got, tc.want)
			}
		})
	}
}
