package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/scimforge/scimforge/app/config"
)

// healthcheck is the container's HEALTHCHECK (distroless has no shell nor
// curl): it reads the configuration as serve does and GETs /healthz on the
// address the server listens on.
func healthcheck(args []string) error {
	cfg, err := config.Load(args)
	if err != nil {
		return err
	}
	target, err := probeURL(cfg.Listen, cfg.TLSCertFile != "")
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout: 4 * time.Second, // under the image's HEALTHCHECK --timeout
		Transport: &http.Transport{
			Proxy: nil, // never through HTTP_PROXY: the server is on this host
			// The certificate names the public host, not the loopback
			// address dialled here, and nothing secret is sent or read.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
	}
	resp, err := client.Get(target)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return nil
}

// probeURL is the /healthz URL of a server listening on listen: a wildcard
// host (":8080", "0.0.0.0:8080", "[::]:8080") is reached on 127.0.0.1: Go
// listens on both families for "::", and a container may have no IPv6
// loopback.
func probeURL(listen string, https bool) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("SCIMFORGE_LISTEN %q: %v", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// configDoc prints docs/configuration.md, with the defaults, not this
// environment's values.
func configDoc() error {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SCIMFORGE_") {
			os.Unsetenv(k)
		}
	}
	list, err := config.Settings()
	if err != nil {
		return err
	}
	_, err = fmt.Print(config.Markdown(list))
	return err
}
