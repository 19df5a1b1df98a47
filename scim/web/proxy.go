package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies decides who the client of a request is. Only when the direct
// peer (r.RemoteAddr) is inside one of trusted are the proxy headers
// believed:
//
//   - X-Forwarded-For: the client is the rightmost address that is not a
//     trusted proxy (every hop appends the address it received from, so
//     what a client wrote itself is to the left of it and never chosen);
//   - X-Forwarded-Proto (http or https): the scheme of meta.location and
//     of the base URL derived from the request;
//   - X-Forwarded-Host: replaces r.Host, so meta.location and host
//     tenancy see the public name the proxy received.
//
// From any other peer the headers are ignored: the client is the peer,
// the scheme is the connection's. It runs first, so ClientAddr, the access
// log, rate limits and the auth failure slow-down all see one answer.
func Proxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := peerAddr(r.RemoteAddr)
		c := &client{addr: peer}
		if r.TLS != nil {
			c.scheme = "https"
		} else {
			c.scheme = "http"
		}
		if inPrefixes(trusted, peer) {
			if a, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), trusted); ok {
				c.addr = a
			}
			if p := lastValue(r.Header.Values("X-Forwarded-Proto")); strings.EqualFold(p, "https") || strings.EqualFold(p, "http") {
				c.scheme = strings.ToLower(p)
			}
			if h := lastValue(r.Header.Values("X-Forwarded-Host")); plausibleHost(h) {
				r2 := *r
				r2.Host = h
				r = &r2
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
	})
}

type clientKey struct{}

type client struct {
	addr   netip.Addr
	scheme string
}

// ClientAddr is the address of the request's client: the one Proxies
// found, or the direct peer when Proxies did not run. Empty when the peer
// address is not an IP (a test's "pipe").
func ClientAddr(r *http.Request) string {
	a := clientAddr(r)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func clientAddr(r *http.Request) netip.Addr {
	if c, ok := r.Context().Value(clientKey{}).(*client); ok {
		return c.addr
	}
	return peerAddr(r.RemoteAddr)
}

// requestScheme is "https" when the client reached us over TLS, directly
// or through a trusted proxy that said so.
func requestScheme(r *http.Request) string {
	if c, ok := r.Context().Value(clientKey{}).(*client); ok {
		return c.scheme
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// peerAddr parses "ip:port" (or a bare ip) as net/http sets RemoteAddr.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(remote); err == nil {
		remote = host
	}
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor walks the X-Forwarded-For hops from the right (the hop the
// trusted peer appended) and returns the first address that is not a
// trusted proxy. A hop that does not parse ends the walk: the last trusted
// proxy before it is the best answer anyone vouches for.
func forwardedFor(values []string, trusted []netip.Prefix) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a := peerAddr(strings.Trim(strings.TrimSpace(hops[i]), `"`))
		if !a.IsValid() {
			break
		}
		if !inPrefixes(trusted, a) {
			return a, true
		}
		last = a
	}
	return last, last.IsValid()
}

// lastValue is the last comma-separated element of the header's values:
// the one the nearest proxy set.
func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// plausibleHost accepts host names, IPv4 and bracketed IPv6 addresses with
// an optional port: nothing that could inject a path, scheme or user info
// into meta.location.
func plausibleHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}
