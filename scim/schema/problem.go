package schema

import (
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a schema document (or with the generator's
// sidecar, which reports in the same form): the file, an RFC 6901 JSON
// Pointer into it, what is wrong and how to fix it.
type Problem struct {
	// File is the path of the document as read, e.g. "schemas/custom/AcmeUser.json".
	File string
	// Pointer is an RFC 6901 JSON Pointer into File, e.g.
	// "/attributes/3/subAttributes/0/name". Empty means the whole document.
	// A pointer may name a member that is missing (where it has to be added).
	Pointer string
	Msg     string
	// Fix says what to change; empty when Msg already says it.
	Fix string
}

// Error is "file#pointer: message (fix: hint)", the form the generator prints.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Pointer != "" {
		b.WriteByte('#')
		b.WriteString(p.Pointer)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(p.Fix)
		b.WriteByte(')')
	}
	return b.String()
}

// Problems is every problem found in a load. Load reports them all at once,
// sorted, so that one run of the generator shows everything to fix.
type Problems []*Problem

// Error is one problem per line.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Sorted returns the problems ordered by file, then by pointer (tokens
// compared one by one, array indexes as numbers, so /attributes/2 comes
// before /attributes/10), then by message, without exact duplicates (a
// schema shared by two resource types is checked twice).
func (ps Problems) Sorted() Problems {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b *Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if c := comparePointers(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		return strings.Compare(a.Msg, b.Msg)
	})
	return slices.CompactFunc(out, func(a, b *Problem) bool { return *a == *b })
}

// Pointer builds an RFC 6901 JSON Pointer from reference tokens: strings are
// escaped ("~" as "~0", "/" as "~1"), ints are array indexes.
// Pointer("resourceTypes", "User", "indexes", 2) is "/resourceTypes/User/indexes/2".
func Pointer(tokens ...any) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		switch t := t.(type) {
		case int:
			b.WriteString(strconv.Itoa(t))
		case string:
			b.WriteString(escapeToken(t))
		default:
			panic("schema.Pointer: token must be a string or an int")
		}
	}
	return b.String()
}

func escapeToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// comparePointers orders pointers by their tokens; a pointer sorts before the
// pointers below it, and all-digit tokens compare as numbers.
func comparePointers(a, b string) int {
	ta, tb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(ta) && i < len(tb); i++ {
		x, y := ta[i], tb[i]
		if x == y {
			continue
		}
		if digits(x) && digits(y) {
			// No overflow for any length: a longer run of digits (without
			// leading zeros, which indexes never have) is the larger number.
			if c := len(x) - len(y); c != 0 {
				return c
			}
		}
		return strings.Compare(x, y)
	}
	return len(ta) - len(tb)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
