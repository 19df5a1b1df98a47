package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CertReloader serves the certificate in a pair of PEM files and picks up
// a renewed pair (certbot, cert-manager) without a restart: at a handshake,
// at most once a second, it compares the files' modification times and
// loads them again when they changed. A pair that does not load (half
// written, mismatched) is logged and the previous certificate kept.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // modification times of the loaded pair
	checked time.Time
}

// NewCertReloader loads the pair once; an error here stops the start.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile, log: log}
	stamp, err := r.stampNow()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("SCIMFORGE_TLS_CERT_FILE / SCIMFORGE_TLS_KEY_FILE: %v", err)
	}
	r.cert, r.stamp, r.checked = &cert, stamp, time.Now()
	return r, nil
}

func (r *CertReloader) stampNow() (string, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return "", fmt.Errorf("SCIMFORGE_TLS_CERT_FILE: %v", err)
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return "", fmt.Errorf("SCIMFORGE_TLS_KEY_FILE: %v", err)
	}
	return c.ModTime().String() + "|" + k.ModTime().String(), nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) >= time.Second {
		r.checked = time.Now()
		if stamp, err := r.stampNow(); err == nil && stamp != r.stamp {
			cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
			if err != nil {
				r.log.Error("TLS certificate not reloaded; serving the previous one", "err", err)
			} else {
				r.cert, r.stamp = &cert, stamp
				r.log.Info("TLS certificate reloaded", "cert", r.certFile)
			}
		}
	}
	return r.cert, nil
}

// TLSConfig is the server's TLS: 1.2 at least (1.3 preferred by Go), and
// for 1.2 only ECDHE key exchange with AEAD ciphers (forward secrecy, no
// CBC, no RSA key exchange).
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
