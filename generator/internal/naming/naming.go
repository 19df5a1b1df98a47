// Package naming derives Go identifiers and SQL names from SCIM schema names,
// so every emitter (Go types, bun models, OpenAPI x-go-type references)
// agrees on them without talking to each other.
package naming

import (
	"strings"
	"unicode"

	"github.com/jinzhu/inflection"
)

// initialisms are written in upper case inside Go names (Go Code Review
// Comments, "Initialisms"): externalId -> ExternalID, profileUrl -> ProfileURL.
var initialisms = map[string]string{
	"id": "ID", "url": "URL", "uri": "URI", "urn": "URN", "ip": "IP", "ims": "IMs",
	"im": "IM", "json": "JSON", "http": "HTTP", "api": "API", "xml": "XML", "sql": "SQL",
}

// words splits a SCIM attribute name into lower-case words at case changes,
// digits runs and separators: "x509Certificates" -> [x509 certificates],
// "$ref" -> [ref], "employee_number" -> [employee number].
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '$' || r == '_' || r == '-' || r == '.' || r == ':' || r == ' ':
			flush()
		case unicode.IsUpper(r):
			// Start a word at an upper-case letter unless it continues an
			// upper-case run that is not followed by a lower-case letter (URLValue).
			if len(cur) > 0 && !(unicode.IsUpper(rs[i-1]) && (i+1 >= len(rs) || !unicode.IsLower(rs[i+1]))) {
				flush()
			}
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// Go returns the exported Go identifier for a SCIM name:
// "userName" -> "UserName", "externalId" -> "ExternalID", "$ref" -> "Ref".
func Go(name string) string {
	var b strings.Builder
	for _, w := range words(name) {
		if up, ok := initialisms[w]; ok {
			b.WriteString(up)
			continue
		}
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	s := b.String()
	if s == "" || !unicode.IsLetter([]rune(s)[0]) {
		s = "X" + s
	}
	return s
}

// Snake returns the snake_case SQL name for a SCIM name:
// "userName" -> "user_name", "x509Certificates" -> "x509_certificates".
func Snake(name string) string { return strings.Join(words(name), "_") }

// Singular returns the Go name of one element of a multi-valued attribute:
// "emails" -> "Email", "addresses" -> "Address", "ims" -> "IM".
func Singular(name string) string {
	ws := words(name)
	if len(ws) == 0 {
		return Go(name)
	}
	last := ws[len(ws)-1]
	if last == "ims" {
		ws[len(ws)-1] = "im"
	} else {
		ws[len(ws)-1] = inflection.Singular(last)
	}
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(Go(w))
	}
	return b.String()
}
