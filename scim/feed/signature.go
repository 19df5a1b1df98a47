package feed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a webhook's signature:
//
//	X-Scimforge-Signature: t=1765432100,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// t is the time of sending (Unix seconds) and v1 the lower-case hex
// HMAC-SHA256, keyed with the shared secret, of t, a dot and the request
// body exactly as received: HMAC(secret, "1765432100." + body). Signing the
// time with the body lets a receiver refuse a captured request replayed
// later (VerifySignature's tolerance). Each retry is signed afresh.
const SignatureHeader = "X-Scimforge-Signature"

// DefaultTolerance is VerifySignature's tolerance when given 0.
const DefaultTolerance = 5 * time.Minute

// ErrSignature is what VerifySignature returns (wrapped) for any request
// that is not signed with the secret within the tolerance.
var ErrSignature = errors.New("webhook signature does not verify")

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a webhook request: header is its
// X-Scimforge-Signature value, body the raw request body (read it before
// decoding; re-encoded JSON does not verify). It returns nil when one v1
// signature is the HMAC of the header's t and body under secret, and t is
// within tolerance of this machine's clock (0: DefaultTolerance); an
// error wrapping ErrSignature otherwise. The comparison takes constant
// time.
//
//	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
//	if err := feed.VerifySignature(secret, r.Header.Get(feed.SignatureHeader), body, 0); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
func VerifySignature(secret, header string, body []byte, tolerance time.Duration) error {
	return verifyAt(secret, header, body, tolerance, time.Now())
}

func verifyAt(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if secret == "" {
		return fmt.Errorf("%w: no secret to verify with", ErrSignature)
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: header %q has no t= and v1=", ErrSignature, header)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp %q", ErrSignature, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s away from now (tolerance %s)", ErrSignature, time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches", ErrSignature)
}
