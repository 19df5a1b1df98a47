package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for 127.0.0.1 named cn.
func writePair(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written to temporary names and renamed, as certificate tools do.
	for path, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: kb}} {
		if err := os.WriteFile(path+".tmp", pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTLS: HTTPS from the configured pair, TLS 1.1 refused, a renewed pair
// served without a restart, a broken one ignored.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, certFile, keyFile, "first")
	r, err := NewCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }), TLSConfig: r.TLSConfig()}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	addr := ln.Addr().String()

	served := func(tc *tls.Config) (string, error) {
		tc.InsecureSkipVerify = true // the test checks which certificate is served
		c, err := tls.Dial("tcp", addr, tc)
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
	}
	if cn, err := served(&tls.Config{}); err != nil || cn != "first" {
		t.Fatalf("TLS handshake: %q %v", cn, err)
	}
	if cn, err := served(&tls.Config{MaxVersion: tls.VersionTLS12, MinVersion: tls.VersionTLS12}); err != nil || cn != "first" {
		t.Fatalf("TLS 1.2: %q %v", cn, err)
	}
	if _, err := served(&tls.Config{MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}); err == nil {
		t.Fatal("a TLS 1.1 client was accepted")
	}
	// Renewal: a new pair in place is served after at most a second.
	time.Sleep(1100 * time.Millisecond) // distinct modification times
	writePair(t, certFile, keyFile, "renewed")
	deadline := time.Now().Add(5 * time.Second)
	for {
		cn, err := served(&tls.Config{})
		if err == nil && cn == "renewed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("renewed certificate not served: %q %v", cn, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A half-written key: the renewed certificate stays in service.
	time.Sleep(1100 * time.Millisecond)
	if err := os.WriteFile(keyFile, []byte("-----BEGIN EC PRIVATE KEY-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if cn, err := served(&tls.Config{}); err != nil || cn != "renewed" {
		t.Fatalf("after a broken renewal: %q %v", cn, err)
	}
	// A pair that does not load stops the start, naming the setting.
	if _, err := NewCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a broken pair was accepted at start")
	}
}
