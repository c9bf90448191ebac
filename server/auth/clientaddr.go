package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the load balancers and reverse proxies in front of vscard whose
// X-Forwarded-For header is believed. Empty, the header is ignored: anyone can send it,
// so it says something only when a proxy we run wrote it.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads CIDR prefixes ("10.0.0.0/8") and single addresses
// ("127.0.0.1", "::1"). An error names the first entry that is neither.
func ParseTrustedProxies(entries []string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, e := range entries {
		e = strings.TrimSpace(e)
		p, err := netip.ParsePrefix(e)
		if err != nil {
			a, aerr := netip.ParseAddr(e)
			if aerr != nil {
				return nil, fmt.Errorf("entry %q is neither an IP address nor a CIDR prefix", e)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		// An IPv4-mapped entry ("::ffff:10.0.0.0/104") stands for the IPv4 network, which
		// is how addresses are compared.
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// trusts reports whether a is one of the proxies.
func (t TrustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the client's address for the audit log and the logs: the TCP peer, unless
// the peer is a trusted proxy. Then it is the rightmost X-Forwarded-For entry that is not
// itself a trusted proxy: each proxy appends the address it was connected from, so a
// client can put anything at the left of the list but nothing at its right. A malformed
// entry ends the walk at the last trusted hop, which is also the answer when every entry
// is a trusted proxy.
func (t TrustedProxies) ClientAddr(r *http.Request) string {
	peer := peerAddr(r)
	if len(t) == 0 {
		return peer
	}
	a, err := netip.ParseAddr(peer)
	if err != nil || !t.trusts(a) {
		return peer
	}
	forwarded := r.Header.Values("X-Forwarded-For")
	if len(forwarded) == 0 {
		return peer
	}
	// Several header lines are one list, in order (RFC 9110, section 5.3).
	hops := strings.Split(strings.Join(forwarded, ","), ",")
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap().WithZone("")
		if !t.trusts(a) {
			return a.String()
		}
		last = a.String()
	}
	return last
}

// peerAddr is the host of the request's TCP peer.
func peerAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
