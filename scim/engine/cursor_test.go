package engine

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/scim/scimerr"
)

func TestCursorRoundTrip(t *testing.T) {
	keys := []any{nil, "", "2026-01-02T03:04:05.000000000Z", "bjensen@example.com", "ünïcode ✓", int64(-42), int64(1) << 62, 0.75, true, false,
		time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	for _, k := range keys {
		for _, back := range []bool{false, true} {
			p := position{back: back, t: 1, key: k, id: "6f1c2a9e-0000-4000-8000-000000000001"}
			c := encodeCursor("scope", p)
			if strings.ContainsAny(c, "+/=") {
				t.Errorf("cursor %q has characters outside RFC 3986 unreserved", c)
			}
			got, err := decodeCursor("scope", c, 2)
			if err != nil {
				t.Fatalf("decode(encode(%#v)): %v", p, err)
			}
			if tm, ok := k.(time.Time); ok {
				if !got.key.(time.Time).Equal(tm) {
					t.Errorf("time key %v came back as %v", tm, got.key)
				}
				got.key = k
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("round trip: %#v, want %#v", got, p)
			}
		}
	}
}

func TestCursorRejects(t *testing.T) {
	good := encodeCursor("scope", position{t: 0, key: "k", id: "id"})
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	tampered := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"k":"sk"`, `"k":"sj"`, 1)))
	for name, c := range map[string]string{
		"other query":    good, // decoded with another scope below
		"tampered key":   tampered,
		"not base64":     "a+b/c==",
		"not JSON":       base64.RawURLEncoding.EncodeToString([]byte("hello")),
		"unknown member": base64.RawURLEncoding.EncodeToString([]byte(`{"d":"n","t":0,"k":"sk","i":"id","h":"x","z":1}`)),
		"too long":       strings.Repeat("A", maxCursorLen+1),
	} {
		scope := "scope"
		if name == "other query" {
			scope = "other"
		}
		_, err := decodeCursor(scope, c, 1)
		e := scimerr.As(err)
		if e == nil || e.Status != 400 || e.ScimType != scimerr.InvalidCursor {
			t.Errorf("%s: err %v, want 400 invalidCursor", name, err)
		}
	}
	// A type index beyond the search is rejected even with a valid hash.
	if _, err := decodeCursor("scope", encodeCursor("scope", position{t: 3, key: "k", id: "id"}), 2); err == nil {
		t.Error("type index 3 accepted in a search of 2 types")
	}
}

// FuzzCursor feeds arbitrary strings to the cursor decoder: it must never
// panic, fail only with 400 invalidCursor, and whatever it accepts must
// survive a re-encode.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor("s", position{key: "2026-01-02T03:04:05.000000000Z", id: "a"}))
	f.Add(encodeCursor("s", position{back: true, t: 1, key: nil, id: "b"}))
	f.Add(encodeCursor("s", position{key: int64(7), id: "c"}))
	f.Add("")
	f.Add("eyJkIjoibiJ9")
	f.Fuzz(func(t *testing.T, c string) {
		p, err := decodeCursor("s", c, 2)
		if err != nil {
			if e := scimerr.As(err); e == nil || e.ScimType != scimerr.InvalidCursor {
				t.Fatalf("error %v is not invalidCursor", err)
			}
			return
		}
		q, err := decodeCursor("s", encodeCursor("s", p), 2)
		if err != nil || !reflect.DeepEqual(p, q) && !(isTime(p.key) && isTime(q.key)) {
			t.Fatalf("accepted %q as %#v but its re-encoding gives %#v, %v", c, p, q, err)
		}
	})
}

func isTime(v any) bool { _, ok := v.(time.Time); return ok }
