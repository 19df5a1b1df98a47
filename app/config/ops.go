package config

import (
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Ops are the operational settings: proxies, rate and concurrency limits,
// timeouts, shutdown and metrics (docs/operations.md explains each).
type Ops struct {
	// TrustedProxies are the peers whose X-Forwarded-For, -Proto and
	// -Host headers are believed (SCIMFORGE_TRUSTED_PROXIES: CIDRs or
	// addresses, comma-separated; empty believes nobody).
	TrustedProxies []netip.Prefix
	// RateLimit is the sustained requests per second one credential may
	// send to one tenant (SCIMFORGE_RATE_LIMIT; 0 disables rate limiting);
	// RateBurst is how many it may send at once (SCIMFORGE_RATE_BURST).
	RateLimit float64
	RateBurst int
	// MaxConcurrent caps the SCIM requests served at once
	// (SCIMFORGE_MAX_CONCURRENT; 0: no cap).
	MaxConcurrent int
	// Timeouts of http.Server (SCIMFORGE_READ_HEADER_TIMEOUT,
	// SCIMFORGE_READ_TIMEOUT, SCIMFORGE_WRITE_TIMEOUT, SCIMFORGE_IDLE_TIMEOUT).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// RequestTimeout is each request's context deadline
	// (SCIMFORGE_REQUEST_TIMEOUT; 0: none): database work still running
	// then is abandoned and the client gets a 503.
	RequestTimeout time.Duration
	// ShutdownDelay is how long /readyz answers 503 before the listener
	// closes (SCIMFORGE_SHUTDOWN_DELAY), ShutdownTimeout how long in-flight
	// requests then have to finish (SCIMFORGE_SHUTDOWN_TIMEOUT).
	ShutdownDelay, ShutdownTimeout time.Duration
	// MetricsToken, when set, is the bearer token GET /metrics requires
	// (SCIMFORGE_METRICS_TOKEN or SCIMFORGE_METRICS_TOKEN_FILE).
	MetricsToken string
}

// Ops defaults. The rate is per tenant and credential: Microsoft asks
// gallery apps to sustain 25 requests/s per tenant, and Entra does not
// throttle custom apps itself, so the default allows ten times that
// sustained, with bursts of two seconds' worth. One credential at the limit
// then uses about an eighth of what one SQLite server writes (~2,000/s
// measured), so a runaway client cannot starve the other tenants.
const (
	DefaultRateLimit         = 250
	DefaultRateBurst         = 500
	DefaultMaxConcurrent     = 256
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	// DefaultWriteTimeout: Entra and Okta give up after 60 s.
	DefaultWriteTimeout = 55 * time.Second
	DefaultIdleTimeout  = 120 * time.Second
	// DefaultRequestTimeout leaves the request time to send its 503
	// before the write timeout closes the connection.
	DefaultRequestTimeout = 50 * time.Second
	// DefaultShutdownDelay gives load balancers a few probe intervals to
	// see /readyz fail; with DefaultShutdownTimeout it stays inside
	// Kubernetes' default 30 s termination grace period.
	DefaultShutdownDelay   = 5 * time.Second
	DefaultShutdownTimeout = 20 * time.Second
)

// opsFlags registers the Ops settings on fs (environment first, flags
// win) and returns the function that checks them after fs.Parse.
func (o *Ops) opsFlags(fs *flag.FlagSet) func() error {
	str := func(name, env, def, usage string) *string {
		return fs.String(name, Env(env, def), usage+" ("+env+")")
	}
	proxies := str("trusted-proxies", "SCIMFORGE_TRUSTED_PROXIES", "", "comma-separated CIDRs or addresses of proxies whose X-Forwarded-For/-Proto/-Host are believed")
	rate := str("rate-limit", "SCIMFORGE_RATE_LIMIT", strconv.Itoa(DefaultRateLimit), "requests per second per tenant and credential; 0 disables")
	burst := str("rate-burst", "SCIMFORGE_RATE_BURST", strconv.Itoa(DefaultRateBurst), "requests a credential may send at once before the rate applies")
	conc := str("max-concurrent", "SCIMFORGE_MAX_CONCURRENT", strconv.Itoa(DefaultMaxConcurrent), "SCIM requests served at once; more wait up to 1 s, then 503; 0: no cap")
	durations := []struct {
		dst     *time.Duration
		env     string
		s       *string
		zeroOK  bool
		meaning string
	}{
		{&o.ReadHeaderTimeout, "SCIMFORGE_READ_HEADER_TIMEOUT", str("read-header-timeout", "SCIMFORGE_READ_HEADER_TIMEOUT", DefaultReadHeaderTimeout.String(), "time to read a request's headers"), false, ""},
		{&o.ReadTimeout, "SCIMFORGE_READ_TIMEOUT", str("read-timeout", "SCIMFORGE_READ_TIMEOUT", DefaultReadTimeout.String(), "time to read a whole request"), false, ""},
		{&o.WriteTimeout, "SCIMFORGE_WRITE_TIMEOUT", str("write-timeout", "SCIMFORGE_WRITE_TIMEOUT", DefaultWriteTimeout.String(), "time from the end of the request's headers to the end of the response"), false, ""},
		{&o.IdleTimeout, "SCIMFORGE_IDLE_TIMEOUT", str("idle-timeout", "SCIMFORGE_IDLE_TIMEOUT", DefaultIdleTimeout.String(), "how long an idle keep-alive connection stays open"), false, ""},
		{&o.RequestTimeout, "SCIMFORGE_REQUEST_TIMEOUT", str("request-timeout", "SCIMFORGE_REQUEST_TIMEOUT", DefaultRequestTimeout.String(), "deadline of a request's work, answered 503 when passed; 0: none"), true, "0 means none"},
		{&o.ShutdownDelay, "SCIMFORGE_SHUTDOWN_DELAY", str("shutdown-delay", "SCIMFORGE_SHUTDOWN_DELAY", DefaultShutdownDelay.String(), "after SIGTERM, how long /readyz answers 503 before the listener closes"), true, "0 closes at once"},
		{&o.ShutdownTimeout, "SCIMFORGE_SHUTDOWN_TIMEOUT", str("shutdown-timeout", "SCIMFORGE_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout.String(), "how long in-flight requests get to finish at shutdown"), false, ""},
	}
	metricsFile := str("metrics-token-file", "SCIMFORGE_METRICS_TOKEN_FILE", "", "file holding the bearer token GET /metrics requires (or SCIMFORGE_METRICS_TOKEN; default: no token)")
	return func() error {
		var err error
		if o.TrustedProxies, err = ParseProxies(*proxies); err != nil {
			return fmt.Errorf("SCIMFORGE_TRUSTED_PROXIES %q: %v", *proxies, err)
		}
		if o.RateLimit, err = strconv.ParseFloat(strings.TrimSpace(*rate), 64); err != nil || o.RateLimit < 0 || o.RateLimit > 1e6 {
			return fmt.Errorf("SCIMFORGE_RATE_LIMIT %q: want requests per second, e.g. 100 or 0.5 (0 disables rate limiting)", *rate)
		}
		if o.RateBurst, err = strconv.Atoi(strings.TrimSpace(*burst)); err != nil || o.RateBurst < 1 || o.RateBurst > 1e6 {
			return fmt.Errorf("SCIMFORGE_RATE_BURST %q: want a whole number of requests, at least 1", *burst)
		}
		if o.MaxConcurrent, err = strconv.Atoi(strings.TrimSpace(*conc)); err != nil || o.MaxConcurrent < 0 || o.MaxConcurrent > 1e6 {
			return fmt.Errorf("SCIMFORGE_MAX_CONCURRENT %q: want a whole number of requests (0: no cap)", *conc)
		}
		for _, d := range durations {
			v, err := time.ParseDuration(strings.TrimSpace(*d.s))
			if *d.s == "0" {
				v, err = 0, nil
			}
			if err != nil || v < 0 || (v == 0 && !d.zeroOK) {
				want := "a positive duration such as 10s or 2m"
				if d.zeroOK {
					want = "a duration such as 10s or 2m (" + d.meaning + ")"
				}
				return fmt.Errorf("%s %q: want %s", d.env, *d.s, want)
			}
			*d.dst = v
		}
		if o.RequestTimeout >= o.WriteTimeout {
			return fmt.Errorf("SCIMFORGE_REQUEST_TIMEOUT (%s) must be shorter than SCIMFORGE_WRITE_TIMEOUT (%s): a request that times out must still be able to send its 503", o.RequestTimeout, o.WriteTimeout)
		}
		if o.MetricsToken, err = secret("SCIMFORGE_METRICS_TOKEN", "SCIMFORGE_METRICS_TOKEN_FILE", *metricsFile); err != nil {
			return err
		}
		if o.MetricsToken != "" && len(o.MetricsToken) < 16 {
			return fmt.Errorf("SCIMFORGE_METRICS_TOKEN is %d characters; use at least 16 (e.g. openssl rand -hex 32)", len(o.MetricsToken))
		}
		return nil
	}
}

// ParseProxies reads a list of CIDRs ("10.0.0.0/8") and single addresses
// ("192.0.2.7", "::1"), separated by commas or spaces.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			if p != p.Masked() {
				return nil, fmt.Errorf("%q has bits set past its prefix length; did you mean %s?", f, p.Masked())
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is neither a CIDR such as 10.0.0.0/8 nor an IP address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
