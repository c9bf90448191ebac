package enroll

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
	maxHandoffLen = 4096
	maxIDLen      = 128
	maxTokenLen   = 512
)

// Handoff is a parsed vscard://enroll link: which server, which order, and the one-time
// token that claims it.
type Handoff struct {
	// Server is the server's base URL in canonical form (see CanonicalServer).
	Server string
	// Order is the order id.
	Order string
	// Token is the one-time hand-off token. It is a secret: never log it.
	Token string
}

// ErrBadHandoff is wrapped by every ParseHandoff error.
var ErrBadHandoff = errors.New("not a vscard enrolment link")

// ParseHandoff parses vscard://enroll?server=<url>&order=<id>&token=<token>.
func ParseHandoff(raw string) (Handoff, error) {
	if len(raw) > maxHandoffLen {
		return Handoff{}, fmt.Errorf("%w: longer than %d bytes", ErrBadHandoff, maxHandoffLen)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Handoff{}, fmt.Errorf("%w: %v", ErrBadHandoff, err)
	}
	if !strings.EqualFold(u.Scheme, Scheme) {
		return Handoff{}, fmt.Errorf("%w: scheme %q, want %s", ErrBadHandoff, u.Scheme, Scheme)
	}
	// vscard://enroll?... has the action as host; vscard:enroll?... as opaque part.
	action := u.Host
	if u.Opaque != "" {
		action = u.Opaque
	}
	if action != "enroll" || (u.Path != "" && u.Path != "/") || u.User != nil || u.Fragment != "" {
		return Handoff{}, fmt.Errorf("%w: want vscard://enroll?server=...&order=...&token=...", ErrBadHandoff)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Handoff{}, fmt.Errorf("%w: %v", ErrBadHandoff, err)
	}
	var h Handoff
	for _, p := range []struct {
		name string
		dst  *string
		max  int
	}{{"server", &h.Server, maxHandoffLen}, {"order", &h.Order, maxIDLen}, {"token", &h.Token, maxTokenLen}} {
		v := q[p.name]
		if len(v) != 1 || v[0] == "" {
			return Handoff{}, fmt.Errorf("%w: needs exactly one %s parameter", ErrBadHandoff, p.name)
		}
		if len(v[0]) > p.max {
			return Handoff{}, fmt.Errorf("%w: %s longer than %d bytes", ErrBadHandoff, p.name, p.max)
		}
		*p.dst = v[0]
	}
	if h.Server, err = CanonicalServer(h.Server); err != nil {
		return Handoff{}, fmt.Errorf("%w: %v", ErrBadHandoff, err)
	}
	if !printableID(h.Order) || !printableID(h.Token) {
		return Handoff{}, fmt.Errorf("%w: order and token must be printable ASCII without spaces", ErrBadHandoff)
	}
	return h, nil
}

// String returns the link, without revealing the token: for logs and messages.
func (h Handoff) String() string {
	return fmt.Sprintf("vscard://enroll?server=%s&order=%s&token=REDACTED",
		url.QueryEscape(h.Server), url.QueryEscape(h.Order))
}

// URL returns the full link, token included.
func (h Handoff) URL() string {
	q := url.Values{"server": {h.Server}, "order": {h.Order}, "token": {h.Token}}
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

func printableID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
