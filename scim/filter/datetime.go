package filter

import (
	"strings"
	"time"
)

// ParseDateTime parses a dateTime comparison value (RFC 3339 /
// xsd:dateTime: any number of fractional digits, "Z" or an offset; no zone
// means UTC) and returns it in UTC. Years must stay within 0000-9999 after
// conversion, so the fixed-width text encoding of stored times keeps its
// order. The SQL compiler and the in-memory matcher both use it, so a
// filter selects the same values in either.
func ParseDateTime(s string) (time.Time, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	var t time.Time
	var err error
	if len(s) >= 19 && (strings.HasSuffix(s, "Z") || strings.ContainsAny(s[19:], "+-")) {
		t, err = time.Parse(time.RFC3339Nano, s)
	} else {
		t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	}
	if err != nil {
		return time.Time{}, false
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// NumberText returns the text of a value compared with a number: a JSON
// number, or a string holding one (clients quote numbers, e.g. "42"). The
// SQL compiler and the in-memory matcher share it, like ParseDateTime.
func (v Value) NumberText() (string, bool) {
	switch {
	case v.Kind == Number:
		return v.Num, true
	case v.Kind == String && IsJSONNumber(strings.TrimSpace(v.Str)):
		return strings.TrimSpace(v.Str), true
	}
	return "", false
}
