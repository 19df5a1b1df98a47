package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimforge/scimforge/scim/scimerr"
)

// Cursor paging (RFC 9865) is keyset paging: a cursor names a row (its
// resource type in the search, its sort key and its id) and a direction,
// and the next page is "the rows after it" in the query's total order
// (sort key, id). No page ever reads the rows before it, and rows inserted
// or deleted elsewhere cannot shift a page: every row that exists for the
// whole walk is returned exactly once. The server keeps no state, so a
// cursor never expires (the RFC's expiredCursor is never sent).
//
// On the wire a cursor is base64url (no padding: RFC 3986 unreserved
// characters only, as RFC 9865 §2.1 requires) of a small JSON object. Its
// "h" member is a hash of the position and of the query it belongs to
// (resource types, filter, sortBy, sortOrder), so a cursor altered, or
// replayed with another query, is a 400 invalidCursor. The hash is an
// integrity check, not a secret: a client that forges a position only
// chooses where to start a query it may run anyway.

// maxCursorLen bounds what the decoder looks at; real cursors are < 200 bytes.
const maxCursorLen = 2048

// position is the row a cursor points at.
type position struct {
	back bool   // the page wanted is the rows before the anchor (previousCursor)
	t    int    // index of the anchor's resource type in the search
	key  any    // the anchor's sort key as the driver returned it (nil: no value)
	id   string // the anchor's id, the tie-breaker
}

// wireCursor is the JSON inside a cursor.
type wireCursor struct {
	D string `json:"d"` // "n" (next: rows after) or "p" (previous: rows before)
	T int    `json:"t"`
	K string `json:"k"` // tagged sort key, see encodeKey
	I string `json:"i"`
	H string `json:"h"`
}

// cursorHash binds a position to its query. scope identifies the query.
func cursorHash(scope string, w *wireCursor) string {
	h := sha256.New()
	for _, s := range []string{"scimforge-cursor-v1", scope, w.D, strconv.Itoa(w.T), w.K, w.I} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// encodeCursor returns the opaque cursor for p within the query scope.
func encodeCursor(scope string, p position) string {
	w := wireCursor{D: "n", T: p.t, K: encodeKey(p.key), I: p.id}
	if p.back {
		w.D = "p"
	}
	w.H = cursorHash(scope, &w)
	b, _ := json.Marshal(&w) // strings and an int: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor issued by encodeCursor for the same scope.
// types is the number of resource types in the search. Any error is a 400
// invalidCursor.
func decodeCursor(scope, s string, types int) (position, error) {
	bad := func(why string) (position, error) {
		return position{}, scimerr.BadRequest(scimerr.InvalidCursor,
			"cursor is not valid (%s): send cursor= (empty) for the first page, then the nextCursor or previousCursor of the last response, with the same filter, sortBy and sortOrder", why)
	}
	if len(s) > maxCursorLen {
		return bad("too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	var w wireCursor
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil || d.More() {
		return bad("malformed")
	}
	if w.H != cursorHash(scope, &w) {
		return bad("it belongs to another query or was altered")
	}
	if (w.D != "n" && w.D != "p") || w.T < 0 || w.T >= types || w.I == "" || !utf8.ValidString(w.I) {
		return bad("malformed")
	}
	key, ok := decodeKey(w.K)
	if !ok {
		return bad("malformed key")
	}
	return position{back: w.D == "p", t: w.T, key: key, id: w.I}, nil
}

// encodeKey writes a sort key value with a type tag, so that it decodes to
// the Go type the driver returned and compares the same way in SQL.
func encodeKey(v any) string {
	switch v := v.(type) {
	case nil:
		return "n"
	case string:
		return "s" + v
	case []byte:
		return "s" + string(v)
	case int64:
		return "i" + strconv.FormatInt(v, 10)
	case float64:
		return "f" + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		if v {
			return "b1"
		}
		return "b0"
	case time.Time:
		return "t" + v.UTC().Format(time.RFC3339Nano)
	}
	// Drivers return only the types above; anything else cannot round-trip.
	panic("engine: unsupported sort key type in a cursor")
}

func decodeKey(s string) (any, bool) {
	if s == "" {
		return nil, false
	}
	tag, v := s[0], s[1:]
	switch tag {
	case 'n':
		return nil, v == ""
	case 's':
		return v, utf8.ValidString(v) && !strings.ContainsRune(v, 0)
	case 'i':
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	case 'f':
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	case 'b':
		return v == "1", v == "0" || v == "1"
	case 't':
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return nil, false
}
