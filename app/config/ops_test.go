package config

import (
	"strings"
	"testing"
)

// TestOpsDefaults: what a server gets without any ops setting.
func TestOpsDefaults(t *testing.T) {
	t.Setenv("SCIMFORGE_TOKEN", "0123456789abcdef")
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Ops
	if o.RateLimit != DefaultRateLimit || o.RateBurst != DefaultRateBurst || o.MaxConcurrent != DefaultMaxConcurrent ||
		o.RequestTimeout != DefaultRequestTimeout || o.ReadHeaderTimeout != DefaultReadHeaderTimeout ||
		o.ShutdownDelay != DefaultShutdownDelay || o.ShutdownTimeout != DefaultShutdownTimeout || len(o.TrustedProxies) != 0 || o.MetricsToken != "" {
		t.Errorf("defaults: %+v", o)
	}
}

// TestOpsSettings: values from the environment and flags, flags winning.
func TestOpsSettings(t *testing.T) {
	t.Setenv("SCIMFORGE_TOKEN", "0123456789abcdef")
	t.Setenv("SCIMFORGE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ::1")
	t.Setenv("SCIMFORGE_RATE_LIMIT", "0.5")
	t.Setenv("SCIMFORGE_SHUTDOWN_DELAY", "0")
	t.Setenv("SCIMFORGE_METRICS_TOKEN", "metrics-token-0123456789")
	c, err := Load([]string{"-rate-burst", "7", "-request-timeout", "0", "-max-concurrent", "0"})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Ops
	if len(o.TrustedProxies) != 3 || o.TrustedProxies[1].String() != "192.0.2.7/32" || o.TrustedProxies[2].String() != "::1/128" {
		t.Errorf("proxies %v", o.TrustedProxies)
	}
	if o.RateLimit != 0.5 || o.RateBurst != 7 || o.RequestTimeout != 0 || o.MaxConcurrent != 0 || o.ShutdownDelay != 0 || o.MetricsToken != "metrics-token-0123456789" {
		t.Errorf("%+v", o)
	}
}

// TestOpsBadValues: each bad value stops the start with a message naming
// the setting.
func TestOpsBadValues(t *testing.T) {
	for _, c := range []struct{ env, value string }{
		{"SCIMFORGE_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"SCIMFORGE_TRUSTED_PROXIES", "10.0.0.1/8"},
		{"SCIMFORGE_TRUSTED_PROXIES", "proxy.example.com"},
		{"SCIMFORGE_RATE_LIMIT", "fast"},
		{"SCIMFORGE_RATE_LIMIT", "-1"},
		{"SCIMFORGE_RATE_BURST", "0"},
		{"SCIMFORGE_RATE_BURST", "1.5"},
		{"SCIMFORGE_MAX_CONCURRENT", "-3"},
		{"SCIMFORGE_READ_HEADER_TIMEOUT", "0"},
		{"SCIMFORGE_READ_TIMEOUT", "10"},
		{"SCIMFORGE_WRITE_TIMEOUT", "-5s"},
		{"SCIMFORGE_IDLE_TIMEOUT", "forever"},
		{"SCIMFORGE_REQUEST_TIMEOUT", "5 minutes"},
		{"SCIMFORGE_REQUEST_TIMEOUT", "56s"}, // not below the write timeout
		{"SCIMFORGE_SHUTDOWN_DELAY", "soon"},
		{"SCIMFORGE_SHUTDOWN_TIMEOUT", "0"},
		{"SCIMFORGE_METRICS_TOKEN", "short"},
	} {
		t.Run(c.env+"="+c.value, func(t *testing.T) {
			t.Setenv("SCIMFORGE_TOKEN", "0123456789abcdef")
			t.Setenv(c.env, c.value)
			_, err := Load(nil)
			if err == nil || !strings.Contains(err.Error(), c.env) {
				t.Fatalf("got %v, want an error naming %s", err, c.env)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	ps, err := ParseProxies("")
	if err != nil || ps != nil {
		t.Fatalf("empty: %v %v", ps, err)
	}
	ps, err = ParseProxies("fd00::/8,172.16.0.0/12")
	if err != nil || len(ps) != 2 {
		t.Fatalf("%v %v", ps, err)
	}
	if _, err := ParseProxies("fe80::1%eth0"); err == nil {
		t.Error("a zoned address accepted")
	}
}
