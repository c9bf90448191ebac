package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
)

// exitConfig is the exit status when production settings are missing (sysexits'
// EX_CONFIG). The Debian package's unit names it in RestartPreventExitStatus, so systemd
// does not restart a server that cannot start until someone edits its configuration.
const exitConfig = 78

// errUnconfigured says the server was not started because settings are missing; the list
// of what to set has been printed already.
var errUnconfigured = errors.New("configure the settings listed above first")

// firstSetting is a setting production needs that was not given: what it is for, and how
// to give it.
type firstSetting struct {
	What string
	How  string
}

// missingInProduction lists, in the order to set them, the settings a production server
// cannot run without and that were not given. The server itself refuses each of them
// too, but one at a time and deep in its start; an operator who has just installed it
// should read all of them at once, before anything is created in the data folder.
// Development needs none of them: it generates a key, runs its own provider and is
// reached on localhost.
func (c *serveCmd) missingInProduction() []firstSetting {
	if !c.Production {
		return nil
	}
	var m []firstSetting
	if c.SecretKey == "" {
		m = append(m, firstSetting{
			What: "the secret key that seals the cards' management keys and PUKs",
			How: "VSCARD_SECRET_KEY=<64 hex characters>, for example from `openssl rand -hex 32`; " +
				"keep a copy in a safe place: without it no card's keys can be opened",
		})
	}
	if c.OIDCIssuer == "" && !c.AllowDevIDPInProduction {
		m = append(m, firstSetting{
			What: "the identity provider people sign in with (OpenID Connect)",
			How: "VSCARD_OIDC_ISSUER=<issuer URL> and VSCARD_OIDC_CLIENT_ID=<client id>, " +
				"plus VSCARD_OIDC_CLIENT_SECRET for a confidential client " +
				"(README, \"Sign-in and API access\", has Keycloak and Entra ID)",
		})
	}
	if !publicURLSet(c.PublicURL) {
		m = append(m, firstSetting{
			What: "the public URL browsers and Desktop Apps reach this server at",
			How: "VSCARD_PUBLIC_URL=https://<host name people use>; it goes into sign-in redirects, " +
				"Desktop App links and the certificates' CRL and OCSP addresses",
		})
	}
	return m
}

// publicURLSet reports whether u names a host others can reach: the default,
// http://localhost:8080, and any loopback address only work on the server itself.
func publicURLSet(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
		return false
	}
	host := p.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return false
	}
	return true
}

// printFirstSettings writes the list for an operator: numbered, each with how to set it,
// and where the settings go.
func printFirstSettings(w io.Writer, m []firstSetting) {
	fmt.Fprintf(w, "\nvscard-server runs in production mode (VSCARD_PRODUCTION) and needs %d setting(s) first:\n\n", len(m))
	for i, s := range m {
		fmt.Fprintf(w, "  %d. %s\n     %s\n\n", i+1, s.What, s.How)
	}
	fmt.Fprint(w, "Give them as VSCARD_* environment variables or as flags (vscard-server --help lists all).\n"+
		"Installed from the Debian package: edit /etc/vscard/vscard.env, then run\n"+
		"  sudo systemctl restart vscard-server\n\n")
}

// checkCmd tells whether the server has what it needs to start in production, without
// starting it: the Debian package runs it after installing, and an operator after editing
// the configuration.
type checkCmd struct{ serveCmd }

func (c *checkCmd) Run() error {
	if m := c.missingInProduction(); len(m) > 0 {
		printFirstSettings(os.Stderr, m)
		return errUnconfigured
	}
	if c.Production {
		fmt.Fprintln(os.Stderr, "vscard-server: the production settings are there")
	} else {
		fmt.Fprintln(os.Stderr, "vscard-server: development mode (VSCARD_PRODUCTION is off): nothing needs to be configured first")
	}
	return nil
}
