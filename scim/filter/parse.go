package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits on parser input.
const (
	// MaxLength is the longest filter or path accepted, in bytes.
	MaxLength = 4096
	// MaxDepth is the deepest nesting of parentheses, "not" and value-path
	// brackets accepted.
	MaxDepth = 64
)

// Error is a syntax error in a filter or path. Pos is the 0-based byte
// offset in the input where the problem was found; Msg is the complete
// human-readable message and already mentions the position.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Limits bound what ParseLimited accepts: Length in bytes, Depth in
// levels of parentheses, "not" and value-path brackets. A zero field is
// the package's default (MaxLength, MaxDepth). The server sets them from
// its configuration (SCIMFORGE_MAX_FILTER_LENGTH, SCIMFORGE_MAX_FILTER_DEPTH).
type Limits struct {
	Length, Depth int
}

// Parse parses a complete filter expression (RFC 7644 §3.4.2.2).
func Parse(s string) (Expr, error) {
	return ParseLimited(s, Limits{})
}

// ParseLimited is Parse within the limits l.
func ParseLimited(s string, l Limits) (Expr, error) {
	p, err := newParserLimited(s, "filter", l)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.eof() {
		return nil, p.errorf(p.pos, "empty filter")
	}
	e, err := p.parseOr(0, false)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if !p.eof() {
		return nil, p.unexpected(p.pos, "'and', 'or' or the end of the filter")
	}
	return e, nil
}

// ParsePath parses a PATCH path or an attribute reference (attributes,
// excludedAttributes, sortBy): attrPath, or valuePath optionally followed by
// "." and a sub-attribute name (RFC 7644 §3.5.2, Figure 7). Leading and
// trailing whitespace is ignored.
func ParsePath(s string) (Path, error) {
	p, err := newParser(s, "path")
	if err != nil {
		return Path{}, err
	}
	p.skipWS()
	if p.eof() {
		return Path{}, p.errorf(p.pos, "empty path")
	}
	attr, err := p.parseAttrPath()
	if err != nil {
		return Path{}, err
	}
	path := Path{Attr: attr}
	if p.peek() == '[' {
		f, err := p.parseBracket(0)
		if err != nil {
			return Path{}, err
		}
		path.ValueFilter = f
		if p.peek() == '.' {
			if attr.Sub != "" {
				return Path{}, p.errorf(p.pos, "unexpected '.' at position %d: %s already names a sub-attribute", p.pos, attr)
			}
			p.pos++
			sub, err := p.parseSubName()
			if err != nil {
				return Path{}, err
			}
			path.Sub = sub
		}
	}
	end := p.pos
	p.skipWS()
	if !p.eof() {
		if p.peek() == '[' && path.ValueFilter == nil {
			return Path{}, p.errorf(end, "unexpected space at position %d before '['; write %s[...] without spaces", end, attr)
		}
		want := "'[' or the end of the path"
		if path.ValueFilter != nil {
			want = "'.' and a sub-attribute, or the end of the path"
		}
		return Path{}, p.unexpected(p.pos, want)
	}
	return path, nil
}

type parser struct {
	s        string
	pos      int
	what     string // "filter" or "path", for messages
	maxDepth int
}

func newParser(s, what string) (*parser, error) {
	return newParserLimited(s, what, Limits{})
}

func newParserLimited(s, what string, l Limits) (*parser, error) {
	if l.Length <= 0 {
		l.Length = MaxLength
	}
	if l.Depth <= 0 {
		l.Depth = MaxDepth
	}
	p := &parser{s: s, what: what, maxDepth: l.Depth}
	if len(s) > l.Length {
		return nil, p.errorf(l.Length, "%s is %d bytes long; the limit is %d bytes", what, len(s), l.Length)
	}
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, p.errorf(i, "invalid UTF-8 byte 0x%02x at position %d", s[i], i)
			}
			i += size
		}
	}
	return p, nil
}

func (p *parser) errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the token at pos and what was expected instead.
func (p *parser) unexpected(pos int, want string) *Error {
	return p.errorf(pos, "unexpected %s at position %d, expected %s", p.describe(pos), pos, want)
}

// describe names the token that starts at pos, for error messages.
func (p *parser) describe(pos int) string {
	if pos >= len(p.s) {
		return "end of " + p.what
	}
	c := p.s[pos]
	switch {
	case c == '"':
		end := pos + 1
		for end < len(p.s) && p.s[end] != '"' {
			if p.s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(p.s) {
			return "unterminated string"
		}
		return "string " + clip(p.s[pos:end+1])
	case isWordChar(c) || c == ':' || c == '$':
		end := pos
		for end < len(p.s) && (isWordChar(p.s[end]) || p.s[end] == ':' || p.s[end] == '$') {
			end++
		}
		return "'" + clip(p.s[pos:end]) + "'"
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character 0x%02x", c)
	}
	r, _ := utf8.DecodeRuneInString(p.s[pos:])
	return "'" + string(r) + "'"
}

// clip shortens a token for an error message and hides control
// characters, so messages stay on one readable line.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (p *parser) eof() bool { return p.pos >= len(p.s) }

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipWS() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordChar reports the characters of an unquoted value token (quirk Q19).
func isWordChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-'
}

// isValueChar reports the characters of an unquoted comparison value:
// those of isWordChar plus ':', so that the unquoted dateTime Microsoft's
// SCIM collection sends (meta.created gt 2015-10-10T14:38:21.8617979-07:00)
// and unquoted URNs are one token. A ':' cannot start or end anything else
// where a value is expected, so this makes no valid filter ambiguous.
func isValueChar(c byte) bool { return isWordChar(c) || c == ':' }

// isPathChar reports the characters that may appear in an attribute path
// before any "[": URN segments, ATTRNAME, ".", ":" and "$" (for "$ref").
func isPathChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '$'
}

// word returns the run of letters starting at pos (keywords, operators).
func (p *parser) word(pos int) string {
	end := pos
	for end < len(p.s) && isAlpha(p.s[end]) {
		end++
	}
	return p.s[pos:end]
}

// keywordAt reports whether the keyword kw (any case) starts at pos and is
// not the prefix of a longer name or token.
func (p *parser) keywordAt(pos int, kw string) bool {
	if len(p.s)-pos < len(kw) || !strings.EqualFold(p.s[pos:pos+len(kw)], kw) {
		return false
	}
	end := pos + len(kw)
	return end == len(p.s) || !(isPathChar(p.s[end]) || isWordChar(p.s[end]))
}

// parseOr parses: and-expr *("or" and-expr).
func (p *parser) parseOr(depth int, inValue bool) (Expr, error) {
	left, err := p.parseAnd(depth, inValue)
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipWS()
		if !p.keywordAt(p.pos, "or") {
			p.pos = save
			return left, nil
		}
		p.pos += 2
		right, err := p.parseAnd(depth, inValue)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right}
	}
}

// parseAnd parses: unary *("and" unary).
func (p *parser) parseAnd(depth int, inValue bool) (Expr, error) {
	left, err := p.parseUnary(depth, inValue)
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipWS()
		if !p.keywordAt(p.pos, "and") {
			p.pos = save
			return left, nil
		}
		p.pos += 3
		right, err := p.parseUnary(depth, inValue)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right}
	}
}

func (p *parser) enter(depth, pos int) error {
	if depth >= p.maxDepth {
		return p.errorf(pos, "%s is nested deeper than %d levels at position %d", p.what, p.maxDepth, pos)
	}
	return nil
}

// parseUnary parses a parenthesized filter, "not (...)", an attribute
// expression or a value path.
func (p *parser) parseUnary(depth int, inValue bool) (Expr, error) {
	p.skipWS()
	start := p.pos
	if p.eof() || !(p.peek() == '(' || isPathChar(p.peek())) {
		return nil, p.unexpected(start, "an attribute expression, '(' or 'not'")
	}
	if p.peek() == '(' {
		if err := p.enter(depth, start); err != nil {
			return nil, err
		}
		p.pos++
		e, err := p.parseOr(depth+1, inValue)
		if err != nil {
			return nil, err
		}
		if err := p.expectClose(')', start); err != nil {
			return nil, err
		}
		return e, nil
	}
	if p.keywordAt(start, "not") {
		isOp, err := p.notIsOperator(start)
		if err != nil {
			return nil, err
		}
		if isOp {
			if err := p.enter(depth, start); err != nil {
				return nil, err
			}
			p.skipWSFrom(start + 3)
			open := p.pos
			p.pos++ // the '(' notIsOperator saw
			x, err := p.parseOr(depth+1, inValue)
			if err != nil {
				return nil, err
			}
			if err := p.expectClose(')', open); err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
	}
	return p.parseAttrExp(depth, inValue)
}

func (p *parser) skipWSFrom(pos int) {
	p.pos = pos
	p.skipWS()
}

// notIsOperator decides what the word "not" at pos is. Followed by "(" it
// is the logical operator. Followed by "[" or by whitespace and an attribute
// operator it is an attribute named "not". Anything else is an error, since
// RFC 7644 requires "not" to be followed by a parenthesized filter.
func (p *parser) notIsOperator(pos int) (bool, error) {
	after := pos + 3
	i := after
	for i < len(p.s) && isSpace(p.s[i]) {
		i++
	}
	if i < len(p.s) && p.s[i] == '(' {
		return true, nil
	}
	if i == after && i < len(p.s) && p.s[i] == '[' {
		return false, nil
	}
	if i > after {
		if w := p.word(i); w != "" && p.keywordAt(i, w) {
			if _, ok := lookupCompareOp(w); ok {
				return false, nil
			}
		}
	}
	return false, p.unexpected(i, "'(' after 'not' (RFC 7644 requires the form not (filter))")
}

func (p *parser) expectClose(c byte, open int) error {
	p.skipWS()
	if p.peek() == c {
		p.pos++
		return nil
	}
	o := "("
	if c == ']' {
		o = "["
	}
	return p.unexpected(p.pos, fmt.Sprintf("'%c' to close the '%s' at position %d", c, o, open))
}

// parseAttrExp parses "attrPath pr", "attrPath op value", or a value path
// (possibly in the Entra ID form "attr[filter].sub op value").
func (p *parser) parseAttrExp(depth int, inValue bool) (Expr, error) {
	vpStart := p.pos
	attr, err := p.parseAttrPath()
	if err != nil {
		return nil, err
	}
	if p.peek() == '[' {
		if inValue {
			return nil, p.errorf(p.pos, "unexpected '[' at position %d: value filters cannot be nested", p.pos)
		}
		vp := &ValuePath{Attr: attr}
		f, err := p.parseBracket(depth)
		if err != nil {
			return nil, err
		}
		vp.Filter = f
		if p.peek() != '.' {
			return vp, nil
		}
		// Entra ID: emails[type eq "work"].value eq "x"
		dot := p.pos
		if attr.Sub != "" {
			return nil, p.errorf(dot, "unexpected '.' at position %d: %s already names a sub-attribute", dot, attr)
		}
		p.pos++
		sub, err := p.parseSubName()
		if err != nil {
			return nil, err
		}
		cmp, err := p.parseOperatorAndValue(AttrPath{Name: sub}, p.s[vpStart:p.pos])
		if err != nil {
			return nil, err
		}
		vp.Filter = &Logical{Op: And, Left: f, Right: cmp}
		return vp, nil
	}
	return p.parseOperatorAndValue(attr, attr.String())
}

// parseBracket parses "[" valFilter "]" starting at the "[".
func (p *parser) parseBracket(depth int) (Expr, error) {
	open := p.pos
	if err := p.enter(depth, open); err != nil {
		return nil, err
	}
	p.pos++
	f, err := p.parseOr(depth+1, true)
	if err != nil {
		return nil, err
	}
	if err := p.expectClose(']', open); err != nil {
		return nil, err
	}
	return f, nil
}

// parseOperatorAndValue parses " op value" or " pr" after an attribute
// path; label names the attribute in error messages.
func (p *parser) parseOperatorAndValue(attr AttrPath, label string) (Expr, error) {
	p.skipWS()
	opPos := p.pos
	w := p.word(opPos)
	op, ok := lookupCompareOp(w)
	if !ok || !p.keywordAt(opPos, w) {
		if w != "" {
			return nil, p.errorf(opPos, "unknown operator %s at position %d after %s; expected one of eq, ne, co, sw, ew, gt, ge, lt, le, pr", p.describe(opPos), opPos, label)
		}
		return nil, p.unexpected(opPos, "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "+label)
	}
	p.pos += 2
	if op == Pr {
		return &Compare{Attr: attr, Op: Pr}, nil
	}
	p.skipWS()
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: attr, Op: op, Value: v}, nil
}

// parseValue parses compValue: a JSON string, number, true, false or null,
// or (quirk Q19) an unquoted token taken as a string.
func (p *parser) parseValue() (Value, error) {
	start := p.pos
	if p.peek() == '"' {
		s, err := p.parseString()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: String, Str: s}, nil
	}
	end := start
	for end < len(p.s) && isValueChar(p.s[end]) {
		end++
	}
	if end == start {
		return Value{}, p.unexpected(start, "a value (a quoted string, number, true, false or null)")
	}
	if end < len(p.s) && !isSpace(p.s[end]) && p.s[end] != ')' && p.s[end] != ']' {
		return Value{}, p.unexpected(end, "a space, ')' or ']' after the value "+p.s[start:end]+" (quote values that contain other characters)")
	}
	p.pos = end
	tok := p.s[start:end]
	switch {
	case strings.EqualFold(tok, "true"):
		return Value{Kind: True}, nil
	case strings.EqualFold(tok, "false"):
		return Value{Kind: False}, nil
	case strings.EqualFold(tok, "null"):
		return Value{Kind: Null}, nil
	case IsJSONNumber(tok):
		return Value{Kind: Number, Num: tok}, nil
	}
	return Value{Kind: String, Str: tok}, nil
}

// IsJSONNumber reports whether s matches the JSON number grammar
// (RFC 8259 §6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// (strconv alone would also accept "Inf", "NaN", hex and underscores).
func IsJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// parseString parses a JSON string starting at the opening quote.
func (p *parser) parseString() (string, error) {
	open := p.pos
	i := open + 1
	// Fast path: no escapes.
	for i < len(p.s) {
		c := p.s[i]
		if c == '"' {
			p.pos = i + 1
			return p.s[open+1 : i], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		i++
	}
	var b strings.Builder
	b.WriteString(p.s[open+1 : i])
	for i < len(p.s) {
		c := p.s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf(i, "control character 0x%02x at position %d inside a string; escape it (e.g. \\n, \\u00%02x)", c, i, c)
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(p.s) {
			break
		}
		esc := p.s[i+1]
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4(i + 2)
			if !ok {
				return "", p.errorf(i, "invalid escape at position %d: \\u must be followed by 4 hex digits", i)
			}
			n := 6
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				r2, ok := rune(0), false
				if i+7 < len(p.s) && p.s[i+6] == '\\' && p.s[i+7] == 'u' {
					r2, ok = p.hex4(i + 8)
				}
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return "", p.errorf(i, "invalid escape at position %d: high surrogate \\u%04X must be followed by a low surrogate \\uDC00-\\uDFFF", i, r)
				}
				r = utf16.DecodeRune(r, r2)
				n = 12
			case utf16.IsSurrogate(r):
				return "", p.errorf(i, "invalid escape at position %d: low surrogate \\u%04X without a preceding high surrogate", i, r)
			}
			b.WriteRune(r)
			i += n
			continue
		default:
			return "", p.errorf(i, "invalid escape '\\%s' at position %d in string; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", p.describeByte(i+1), i)
		}
		i += 2
	}
	return "", p.errorf(open, "unterminated string starting at position %d", open)
}

func (p *parser) describeByte(i int) string {
	r, _ := utf8.DecodeRuneInString(p.s[i:])
	if r < 0x20 {
		return fmt.Sprintf("x%02x", r)
	}
	return string(r)
}

func (p *parser) hex4(i int) (rune, bool) {
	if i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// parseAttrPath parses [URN ":"] ATTRNAME ["." ATTRNAME] at p.pos.
func (p *parser) parseAttrPath() (AttrPath, error) {
	start := p.pos
	end := start
	for end < len(p.s) && isPathChar(p.s[end]) {
		end++
	}
	if end == start {
		return AttrPath{}, p.unexpected(start, "an attribute name")
	}
	tok := p.s[start:end]
	var a AttrPath
	rest, restPos := tok, start
	if c := strings.LastIndexByte(tok, ':'); c >= 0 {
		a.URN = tok[:c]
		rest, restPos = tok[c+1:], start+c+1
		if err := p.checkURN(a.URN, start); err != nil {
			return AttrPath{}, err
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !validName(name) {
		return AttrPath{}, p.badName(name, restPos)
	}
	a.Name = name
	if hasSub {
		subPos := restPos + len(name) + 1
		if strings.IndexByte(sub, '.') >= 0 {
			d := subPos + strings.IndexByte(sub, '.')
			return AttrPath{}, p.errorf(d, "unexpected '.' at position %d in %s: an attribute path has at most one sub-attribute", d, tok)
		}
		if !validName(sub) {
			return AttrPath{}, p.badName(sub, subPos)
		}
		a.Sub = sub
	}
	p.pos = end
	return a, nil
}

// parseSubName parses the ATTRNAME after "].".
func (p *parser) parseSubName() (string, error) {
	start := p.pos
	end := start
	for end < len(p.s) && (isAlpha(p.s[end]) || isDigit(p.s[end]) || p.s[end] == '-' || p.s[end] == '_' || p.s[end] == '$') {
		end++
	}
	name := p.s[start:end]
	if !validName(name) {
		if name == "" {
			return "", p.unexpected(start, "a sub-attribute name after '.'")
		}
		return "", p.badName(name, start)
	}
	p.pos = end
	return name, nil
}

func (p *parser) badName(name string, pos int) error {
	if name == "" {
		return p.unexpected(pos, "an attribute name")
	}
	return p.errorf(pos, "invalid attribute name %q at position %d: names start with a letter and contain only letters, digits, '-' and '_'", name, pos)
}

// validName reports whether s is an ATTRNAME or "$ref" (any case).
func validName(s string) bool {
	if strings.EqualFold(s, "$ref") {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// checkURN validates the schema URI prefix of an attribute path: at least
// two non-empty colon-separated segments, the first (the URI scheme) a
// letter followed by letters, digits, '+', '-' or '.', and no '$'.
func (p *parser) checkURN(urn string, pos int) error {
	bad := func(off int, why string) error {
		return p.errorf(pos+off, "invalid schema URI %q at position %d: %s", urn, pos+off, why)
	}
	scheme, _, found := strings.Cut(urn, ":")
	if !found {
		return bad(0, "expected a URN such as urn:ietf:params:scim:schemas:core:2.0:User before the attribute name")
	}
	if scheme == "" || !isAlpha(scheme[0]) {
		return bad(0, "it must start with a letter")
	}
	segStart := 0
	for i := 0; i <= len(urn); i++ {
		if i == len(urn) || urn[i] == ':' {
			if i == segStart {
				return bad(i, "empty segment")
			}
			segStart = i + 1
			continue
		}
		if urn[i] == '$' {
			return bad(i, "'$' is not allowed")
		}
	}
	return nil
}
