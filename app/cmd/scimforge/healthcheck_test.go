package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestProbeURL(t *testing.T) {
	for listen, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"127.0.0.2:80":   "http://127.0.0.2:80/healthz",
		"[::1]:8443":     "http://[::1]:8443/healthz",
		"localhost:9000": "http://localhost:9000/healthz",
		"10.1.2.3:8080":  "http://10.1.2.3:8080/healthz",
	} {
		if got, err := probeURL(listen, false); err != nil || got != want {
			t.Errorf("probeURL(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	if got, _ := probeURL("0.0.0.0:8443", true); got != "https://127.0.0.1:8443/healthz" {
		t.Errorf("https: %q", got)
	}
	if _, err := probeURL("8080", false); err == nil {
		t.Error("no host:port accepted")
	}
}

// TestHealthcheck: exit status 0 only when /healthz answers 200, over HTTP
// or HTTPS (self-signed), with the address from the flags, the environment
// or the configuration file.
func TestHealthcheck(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SCIMFORGE_") {
			t.Setenv(k, "")
		}
	}
	status := http.StatusOK
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	addr := plain.Listener.Addr().(*net.TCPAddr)

	if err := healthcheck([]string{"-listen", addr.String()}); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	// A wildcard listen address is probed on loopback.
	t.Setenv("SCIMFORGE_LISTEN", net.JoinHostPort("0.0.0.0", strconv.Itoa(addr.Port)))
	if err := healthcheck(nil); err != nil {
		t.Fatalf("from the environment: %v", err)
	}
	t.Setenv("SCIMFORGE_LISTEN", "")
	conf := filepath.Join(t.TempDir(), "scimforge.conf")
	os.WriteFile(conf, []byte("SCIMFORGE_LISTEN=[::]:"+strconv.Itoa(addr.Port)+"\n"), 0o644)
	if err := healthcheck([]string{"-config", conf}); err != nil {
		t.Fatalf("from the file: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := healthcheck([]string{"-listen", addr.String()}); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503 passed: %v", err)
	}
	plain.Close()
	if err := healthcheck([]string{"-listen", addr.String()}); err == nil {
		t.Fatal("nothing listening passed")
	}
	if err := healthcheck([]string{"-log-level", "loud"}); err == nil {
		t.Fatal("a bad configuration passed")
	}

	status = http.StatusOK
	secure := httptest.NewTLSServer(h)
	defer secure.Close()
	args := []string{"-listen", secure.Listener.Addr().String(), "-tls-cert-file", "/x/cert.pem", "-tls-key-file", "/x/key.pem"}
	if err := healthcheck(args); err != nil {
		t.Fatalf("https: %v", err)
	}
}
