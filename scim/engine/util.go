package engine

import (
	"context"
	"unicode/utf8"

	"github.com/scimforge/scimforge/scim/exchange"
)

// Response is a resource representation ready to send; the type lives in
// scim/exchange so that the HTTP edge can send it without importing the
// engine.
type Response = exchange.Response

// WithBaseURL records the SCIM base URL of the request (exchange.WithBaseURL).
func WithBaseURL(ctx context.Context, base string) context.Context {
	return exchange.WithBaseURL(ctx, base)
}

// BaseURL returns the base URL the edge recorded (exchange.BaseURL), or "".
func BaseURL(ctx context.Context) string { return exchange.BaseURL(ctx) }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping what RFC 8259
// requires and replacing invalid UTF-8, without the reflection of
// encoding/json (this runs for every resource in every response).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
