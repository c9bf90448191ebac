package handoff

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Scheme is the URL scheme of the portal's "Open Desktop App" link.
const Scheme = "vscard"

// Bounds on the parts of a hand-off link. The server's tokens are 43 characters of
// base64url and its order ids are short; the bounds only keep junk out of logs and
// requests.
const (
	maxLinkLen    = 4096
	maxIDLen      = 128
	maxTokenLen   = 512
	maxProcessLen = 64
)

// DefaultProcess is the process of a link without a process parameter: servers from
// before the engine knew only this one.
const DefaultProcess = GetVirtualSmartCard

// Link is a parsed vscard://enroll link: which server, which order, which process the
// order runs, and the one-time token that claims it.
type Link struct {
	// Server is the server's base URL in canonical form (see CanonicalServer).
	Server string
	// Order is the order id.
	Order string
	// Process is the symbolic name of the order's process (get-virtual-smart-card,
	// change-pin, ...); DefaultProcess when the link has none. Whether the Desktop App
	// has a handler for it is Run's question, not the parser's: a refusal there reaches
	// the person in words, with a code.
	Process string
	// Token is the one-time hand-off token. It is a secret: never log it.
	Token string
}

// ErrBadLink is wrapped by every ParseLink error.
var ErrBadLink = errors.New("not a vscard:// link of the portal")

// ParseLink parses vscard://enroll?server=<url>&order=<id>&token=<token>[&process=<name>].
func ParseLink(raw string) (Link, error) {
	if len(raw) > maxLinkLen {
		return Link{}, fmt.Errorf("%w: longer than %d bytes", ErrBadLink, maxLinkLen)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Link{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	if !strings.EqualFold(u.Scheme, Scheme) {
		return Link{}, fmt.Errorf("%w: scheme %q, want %s", ErrBadLink, u.Scheme, Scheme)
	}
	// vscard://enroll?... has the action as host; vscard:enroll?... as opaque part.
	action := u.Host
	if u.Opaque != "" {
		action = u.Opaque
	}
	if action != "enroll" || (u.Path != "" && u.Path != "/") || u.User != nil || u.Fragment != "" {
		return Link{}, fmt.Errorf("%w: want vscard://enroll?server=...&order=...&token=...", ErrBadLink)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Link{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	var h Link
	for _, p := range []struct {
		name string
		dst  *string
		max  int
	}{{"server", &h.Server, maxLinkLen}, {"order", &h.Order, maxIDLen}, {"token", &h.Token, maxTokenLen}} {
		v := q[p.name]
		if len(v) != 1 || v[0] == "" {
			return Link{}, fmt.Errorf("%w: needs exactly one %s parameter", ErrBadLink, p.name)
		}
		if len(v[0]) > p.max {
			return Link{}, fmt.Errorf("%w: %s longer than %d bytes", ErrBadLink, p.name, p.max)
		}
		*p.dst = v[0]
	}
	switch v := q["process"]; {
	case len(v) == 0:
		h.Process = DefaultProcess
	case len(v) > 1 || !symbolicName(v[0]):
		return Link{}, fmt.Errorf("%w: process must be one name of lower-case letters, digits and hyphens", ErrBadLink)
	default:
		h.Process = v[0]
	}
	if h.Server, err = CanonicalServer(h.Server); err != nil {
		return Link{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	if !printableID(h.Order) || !printableID(h.Token) {
		return Link{}, fmt.Errorf("%w: order and token must be printable ASCII without spaces", ErrBadLink)
	}
	return h, nil
}

// String returns the link, without revealing the token: for logs and messages.
func (h Link) String() string {
	return fmt.Sprintf("vscard://enroll?server=%s&order=%s&process=%s&token=REDACTED",
		url.QueryEscape(h.Server), url.QueryEscape(h.Order), url.QueryEscape(h.Process))
}

// URL returns the full link, token included.
func (h Link) URL() string {
	q := url.Values{"server": {h.Server}, "order": {h.Order}, "process": {h.Process}, "token": {h.Token}}
	return "vscard://enroll?" + q.Encode()
}

// CanonicalServer checks a server URL and returns it in the form the trust list keeps:
// lower-case scheme and host, no default port, no trailing slash, no query or fragment.
// Plain http is accepted only for loopback addresses (a server on the same machine,
// as in development); anything else must be https, because the bridge sends the
// card's keys' requests and receives its management key and PUK over this connection.
func CanonicalServer(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse server URL: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("server URL %q: want https://", raw)
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("server URL %q: want https://host[:port][/path]", raw)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" || strings.ContainsAny(host, " %") {
		return "", fmt.Errorf("server URL %q: bad host", raw)
	}
	host = strings.ToLower(host)
	if u.Scheme == "http" && !isLoopback(host) {
		return "", fmt.Errorf("server URL %q: plain http is allowed only for localhost; use https", raw)
	}
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if strings.Contains(u.Path, "/..") || strings.Contains(u.Path, "/./") {
		return "", fmt.Errorf("server URL %q: path with dot segments", raw)
	}
	return u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// symbolicName reports whether s has the form of a process's symbolic name.
func symbolicName(s string) bool {
	if s == "" || len(s) > maxProcessLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func printableID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
