package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Helpers that build expected trees.

func ap(s string) AttrPath {
	var a AttrPath
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		a.URN, s = s[:i], s[i+1:]
	}
	a.Name, a.Sub, _ = strings.Cut(s, ".")
	return a
}

func str(s string) Value { return Value{Kind: String, Str: s} }
func num(s string) Value { return Value{Kind: Number, Num: s} }

var (
	vTrue  = Value{Kind: True}
	vFalse = Value{Kind: False}
	vNull  = Value{Kind: Null}
)

func cmp(attr string, op CompareOp, v Value) Expr { return &Compare{Attr: ap(attr), Op: op, Value: v} }
func pr(attr string) Expr                         { return &Compare{Attr: ap(attr), Op: Pr} }
func and(l, r Expr) Expr                          { return &Logical{Op: And, Left: l, Right: r} }
func or(l, r Expr) Expr                           { return &Logical{Op: Or, Left: l, Right: r} }
func not(x Expr) Expr                             { return &Not{X: x} }
func vp(attr string, f Expr) Expr                 { return &ValuePath{Attr: ap(attr), Filter: f} }

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

var parseTests = []struct {
	name  string
	in    string
	want  Expr
	canon string // expected String(); "" means same as in
}{
	// Every operator.
	{"eq", `userName eq "bjensen"`, cmp("userName", Eq, str("bjensen")), ""},
	{"ne", `title ne "Tour Guide"`, cmp("title", Ne, str("Tour Guide")), ""},
	{"co", `name.familyName co "O'Malley"`, cmp("name.familyName", Co, str("O'Malley")), ""},
	{"sw", `userName sw "J"`, cmp("userName", Sw, str("J")), ""},
	{"ew", `emails.value ew "@example.com"`, cmp("emails.value", Ew, str("@example.com")), ""},
	{"gt", `meta.lastModified gt "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", Gt, str("2011-05-13T04:42:34Z")), ""},
	{"ge", `meta.lastModified ge "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", Ge, str("2011-05-13T04:42:34Z")), ""},
	{"lt", `meta.lastModified lt "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", Lt, str("2011-05-13T04:42:34Z")), ""},
	{"le", `meta.lastModified le "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", Le, str("2011-05-13T04:42:34Z")), ""},
	{"pr", `title pr`, pr("title"), ""},

	// Case-insensitive operators and keywords; names keep their case.
	{"upper op", `UserName EQ "x"`, cmp("UserName", Eq, str("x")), `UserName eq "x"`},
	{"mixed op", `title Pr`, pr("title"), `title pr`},
	{"mixed logical", `a pr AND b pr Or c pr`, or(and(pr("a"), pr("b")), pr("c")), `a pr and b pr or c pr`},
	{"NOT", `NOT (a pr)`, not(pr("a")), `not (a pr)`},
	{"true any case", `active eq TRUE`, cmp("active", Eq, vTrue), `active eq true`},
	{"false any case", `active eq False`, cmp("active", Eq, vFalse), `active eq false`},
	{"null any case", `title eq Null`, cmp("title", Eq, vNull), `title eq null`},

	// Values.
	{"integer", `x eq 42`, cmp("x", Eq, num("42")), ""},
	{"negative", `x gt -7`, cmp("x", Gt, num("-7")), ""},
	{"decimal", `x lt 3.25`, cmp("x", Lt, num("3.25")), ""},
	{"exponent", `x le -1.5E+10`, cmp("x", Le, num("-1.5E+10")), ""},
	{"zero", `x eq 0`, cmp("x", Eq, num("0")), ""},
	{"empty string", `x eq ""`, cmp("x", Eq, str("")), ""},
	{"escapes", `x eq "q\"b\\s\/b\bf\fn\nr\rt\t"`, cmp("x", Eq, str("q\"b\\s/b\bf\fn\nr\rt\t")), `x eq "q\"b\\s/b\bf\fn\nr\rt\t"`},
	{"unicode escape", `x eq "caf\u00e9 \u00E9"`, cmp("x", Eq, str("café é")), `x eq "café é"`},
	{"surrogate pair", `x eq "\ud83d\ude00"`, cmp("x", Eq, str("😀")), `x eq "😀"`},
	{"raw utf8", `x eq "日本語"`, cmp("x", Eq, str("日本語")), ""},
	{"escaped control", `x eq "\u0001"`, cmp("x", Eq, str("\x01")), `x eq "\u0001"`},
	{"brackets and parens in string", `x eq "a) or (b [c]"`, cmp("x", Eq, str("a) or (b [c]")), ""},
	{"keyword in string", `x eq "and"`, cmp("x", Eq, str("and")), ""},

	// Quirk Q19: unquoted tokens.
	{"unquoted word", `externalId eq jyoung`, cmp("externalId", Eq, str("jyoung")), `externalId eq "jyoung"`},
	{"unquoted id", `id eq 54D3-AB`, cmp("id", Eq, str("54D3-AB")), `id eq "54D3-AB"`},
	{"unquoted email", `userName eq j.young+x@example.com`, cmp("userName", Eq, str("j.young+x@example.com")), `userName eq "j.young+x@example.com"`},
	{"unquoted not a number", `x eq 01`, cmp("x", Eq, str("01")), `x eq "01"`},
	{"unquoted then and", `id eq abc and x pr`, and(cmp("id", Eq, str("abc")), pr("x")), `id eq "abc" and x pr`},
	{"unquoted in parens", `(id eq abc)`, cmp("id", Eq, str("abc")), `id eq "abc"`},
	{"unquoted dateTime", `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, cmp("meta.Created", Gt, str("2015-10-10T14:38:21.8617979-07:00")), `meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`},
	{"unquoted dateTime in brackets", `x[at lt 2024-01-01T00:00:00Z]`, vp("x", cmp("at", Lt, str("2024-01-01T00:00:00Z"))), `x[at lt "2024-01-01T00:00:00Z"]`},
	{"unquoted URN", `schemas eq urn:ietf:params:scim:schemas:core:2.0:User`, cmp("schemas", Eq, str("urn:ietf:params:scim:schemas:core:2.0:User")), `schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`},

	// Precedence and grouping.
	{"and binds tighter", `a pr or b pr and c pr`, or(pr("a"), and(pr("b"), pr("c"))), ""},
	{"and before or", `a pr and b pr or c pr`, or(and(pr("a"), pr("b")), pr("c")), ""},
	{"left assoc or", `a pr or b pr or c pr`, or(or(pr("a"), pr("b")), pr("c")), ""},
	{"left assoc and", `a pr and b pr and c pr`, and(and(pr("a"), pr("b")), pr("c")), ""},
	{"group or", `(a pr or b pr) and c pr`, and(or(pr("a"), pr("b")), pr("c")), ""},
	{"group right", `a pr and (b pr or c pr)`, and(pr("a"), or(pr("b"), pr("c"))), ""},
	{"right assoc group", `a pr or (b pr or c pr)`, or(pr("a"), or(pr("b"), pr("c"))), ""},
	{"redundant parens", `((a pr))`, pr("a"), `a pr`},
	{"redundant group", `(a pr) or (b pr)`, or(pr("a"), pr("b")), `a pr or b pr`},
	{"not binds tighter than and", `not (a pr) and b pr`, and(not(pr("a")), pr("b")), ""},
	{"not of or", `not (a pr or b pr)`, not(or(pr("a"), pr("b"))), ""},
	{"not not", `not (not (a pr))`, not(not(pr("a"))), ""},
	{"not without space", `not(a pr)`, not(pr("a")), `not (a pr)`},
	{"tight parens", `(a pr)and(b pr)`, and(pr("a"), pr("b")), `a pr and b pr`},
	{"extra whitespace", "  a  eq\t\"x\"\n and\r\nb pr  ", and(cmp("a", Eq, str("x")), pr("b")), `a eq "x" and b pr`},
	{"no space before string", `a eq"x"`, cmp("a", Eq, str("x")), `a eq "x"`},
	{"rfc example", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		and(cmp("userType", Eq, str("Employee")), or(cmp("emails", Co, str("example.com")), cmp("emails.value", Co, str("example.org")))), ""},
	{"rfc example not", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		and(cmp("userType", Ne, str("Employee")), not(or(cmp("emails", Co, str("example.com")), cmp("emails.value", Co, str("example.org"))))), ""},

	// Attribute names that look like keywords.
	{"attr named not", `not pr`, pr("not"), ""},
	{"attr named not eq", `not eq "x"`, cmp("not", Eq, str("x")), ""},
	{"attr named and", `and pr and or pr`, and(pr("and"), pr("or")), ""},
	{"attr starting with not", `notes pr`, pr("notes"), ""},
	{"attr starting with or", `a pr or orgName pr`, or(pr("a"), pr("orgName")), ""},
	{"name chars", `x-y_z9 pr`, pr("x-y_z9"), ""},
	{"$ref", `members.$ref eq "https://x/Users/1"`, cmp("members.$ref", Eq, str("https://x/Users/1")), ""},
	{"$ref name", `$ref pr`, pr("$ref"), ""},

	// URN-qualified attributes.
	{"urn attr", ent + `:employeeNumber eq "701984"`, cmp(ent+":employeeNumber", Eq, str("701984")), ""},
	{"urn sub", ent + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, cmp(ent+":manager.value", Eq, str("26118915-6090-4610-87e4-49d8ca9f808d")), ""},
	{"urn core", `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x"`, cmp("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", Eq, str("x")), ""},
	{"bare schema urn", ent + ` pr`, &Compare{Attr: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}, Op: Pr}, ""},
	{"urn case kept", `URN:IETF:x:Attr pr`, &Compare{Attr: AttrPath{URN: "URN:IETF:x", Name: "Attr"}, Op: Pr}, ""},

	// Value paths.
	{"valuePath", `emails[type eq "work"]`, vp("emails", cmp("type", Eq, str("work"))), ""},
	{"valuePath and", `emails[type eq "work" and value co "@example.com"]`, vp("emails", and(cmp("type", Eq, str("work")), cmp("value", Co, str("@example.com")))), ""},
	{"valuePath or group", `emails[type eq "work" or (type eq "home" and value ew "@example.com")]`,
		vp("emails", or(cmp("type", Eq, str("work")), and(cmp("type", Eq, str("home")), cmp("value", Ew, str("@example.com"))))),
		`emails[type eq "work" or type eq "home" and value ew "@example.com"]`},
	{"valuePath not", `emails[not (type eq "work")]`, vp("emails", not(cmp("type", Eq, str("work")))), ""},
	{"valuePath in logic", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		and(cmp("userType", Eq, str("Employee")), vp("emails", and(cmp("type", Eq, str("work")), cmp("value", Co, str("@example.com"))))), ""},
	{"valuePath or valuePath", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		or(vp("emails", and(cmp("type", Eq, str("work")), cmp("value", Co, str("@example.com")))), vp("ims", and(cmp("type", Eq, str("xmpp")), cmp("value", Co, str("@foo.com"))))), ""},
	{"valuePath spaces", `emails[ type eq "work" ]`, vp("emails", cmp("type", Eq, str("work"))), `emails[type eq "work"]`},
	{"valuePath bool string", `roles[primary eq "True"]`, vp("roles", cmp("primary", Eq, str("True"))), ""},
	{"valuePath urn", ent + `:manager[value eq "x"]`, vp(ent+":manager", cmp("value", Eq, str("x"))), ""},
	{"not valuePath", `not (emails[type eq "work"])`, not(vp("emails", cmp("type", Eq, str("work")))), ""},

	// Entra ID quirk: comparison on a sub-attribute of a value path.
	{"azure valuePath sub", `emails[type eq "work"].value eq "user@contoso.com"`,
		vp("emails", and(cmp("type", Eq, str("work")), cmp("value", Eq, str("user@contoso.com")))), `emails[type eq "work" and value eq "user@contoso.com"]`},
	{"azure valuePath sub case", `emails[type eq "other"].Value EQ "x"`,
		vp("emails", and(cmp("type", Eq, str("other")), cmp("Value", Eq, str("x")))), `emails[type eq "other" and Value eq "x"]`},
	{"azure valuePath sub pr", `addresses[type eq "work"].streetAddress pr`,
		vp("addresses", and(cmp("type", Eq, str("work")), pr("streetAddress"))), `addresses[type eq "work" and streetAddress pr]`},
	{"azure valuePath sub or", `emails[type eq "work" or type eq "home"].value eq "x"`,
		vp("emails", and(or(cmp("type", Eq, str("work")), cmp("type", Eq, str("home"))), cmp("value", Eq, str("x")))), `emails[(type eq "work" or type eq "home") and value eq "x"]`},
	{"azure valuePath sub in and", `userName eq "a" and emails[type eq "work"].value eq "x"`,
		and(cmp("userName", Eq, str("a")), vp("emails", and(cmp("type", Eq, str("work")), cmp("value", Eq, str("x"))))), `userName eq "a" and emails[type eq "work" and value eq "x"]`},

	// Client samples (Q17).
	{"id and manager", `id eq "54D3" and manager eq "x"`, and(cmp("id", Eq, str("54D3")), cmp("manager", Eq, str("x"))), ""},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got  %s\n want %s", tt.in, got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if s := got.String(); s != canon {
				t.Errorf("String() = %q, want %q", s, canon)
			}
			assertRoundTrip(t, got)
		})
	}
}

func assertRoundTrip(t *testing.T, e Expr) {
	t.Helper()
	s := e.String()
	back, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(String()) of %q: %v", s, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip of %q changed the tree:\n got  %#v\n want %#v", s, back, e)
	}
	if s2 := back.String(); s2 != s {
		t.Fatalf("String not stable: %q then %q", s, s2)
	}
}

// TestRoundTripConstructed checks trees that the parser would never produce
// from "natural" input but that callers may build: String must still render
// text that parses back to the same tree.
func TestRoundTripConstructed(t *testing.T) {
	trees := []Expr{
		or(pr("a"), or(pr("b"), pr("c"))),
		and(pr("a"), and(pr("b"), pr("c"))),
		and(or(pr("a"), pr("b")), or(pr("c"), pr("d"))),
		or(and(pr("a"), pr("b")), and(pr("c"), pr("d"))),
		not(and(or(pr("a"), not(pr("b"))), pr("c"))),
		vp("emails", or(and(pr("a"), pr("b")), not(or(pr("c"), pr("d"))))),
		cmp("x", Eq, str("\x00\x1f\x7f\"\\/\u2028")),
		cmp("x", Eq, str("<>&")),
		cmp("x", Eq, num("-0.0e-0")),
		cmp("not", Ne, vNull),
		pr("$REF"),
	}
	for _, e := range trees {
		assertRoundTrip(t, e)
	}
}

var errorTests = []struct {
	name string
	in   string
	pos  int
	msg  string // substring of the message
}{
	{"empty", ``, 0, "empty filter"},
	{"blank", `   `, 3, "empty filter"},
	{"missing value", `userName eq`, 11, "unexpected end of filter at position 11, expected a value"},
	{"paren instead of value", `(userName eq ) or x pr`, 13, "unexpected ')' at position 13, expected a value"},
	{"missing operator", `userName`, 8, "expected an operator"},
	{"unknown operator", `userName regex "x"`, 9, "unknown operator 'regex' at position 9"},
	{"operator glued to value", `userName eqx "x"`, 9, "unknown operator 'eqx'"},
	{"value after pr", `title pr "x"`, 9, `unexpected string "x" at position 9, expected 'and', 'or' or the end`},
	{"unclosed paren", `(a pr`, 5, "expected ')' to close the '(' at position 0"},
	{"unclosed bracket", `emails[type eq "work"`, 21, "expected ']' to close the '[' at position 6"},
	{"stray close", `a pr)`, 4, "unexpected ')' at position 4"},
	{"dangling and", `a pr and`, 8, "unexpected end of filter at position 8, expected an attribute expression"},
	{"dangling or", `a pr or `, 8, "expected an attribute expression"},
	{"leading and", `and`, 3, "expected an operator"},
	{"double and", `a pr and and`, 12, "expected an operator"},
	{"not without paren", `not a pr`, 4, "expected '(' after 'not'"},
	{"not at end", `not`, 3, "expected '(' after 'not'"},
	{"not unclosed", `not (a pr`, 9, "expected ')' to close the '(' at position 4"},
	{"empty parens", `()`, 1, "unexpected ')' at position 1, expected an attribute expression"},
	{"empty brackets", `emails[]`, 7, "unexpected ']' at position 7, expected an attribute expression"},
	{"nested valuePath", `emails[type[value eq "x"]]`, 11, "value filters cannot be nested"},
	{"nested valuePath in azure form", `emails[type eq "x"].value[value eq "x"]`, 25, "expected an operator"},
	{"two sub attrs", `name.familyName.x pr`, 15, "at most one sub-attribute"},
	{"sub after sub valuePath", `name.x[a pr].b eq "x"`, 12, "already names a sub-attribute"},
	{"bad name digit", `1abc pr`, 0, `invalid attribute name "1abc"`},
	{"bad sub", `name.9 pr`, 5, `invalid attribute name "9"`},
	{"empty sub", `name. pr`, 5, "expected an attribute name"},
	{"bad urn empty segment", `urn::name pr`, 4, "empty segment"},
	{"bad urn single segment", `urn:name pr`, 0, "expected a URN"},
	{"trailing colon", `urn:x: pr`, 6, "expected an attribute name"},
	{"dollar in urn", `urn:$x:name pr`, 4, "'$' is not allowed"},
	{"unterminated string", `a eq "abc`, 5, "unterminated string starting at position 5"},
	{"bad escape", `a eq "a\qb"`, 7, `invalid escape '\q' at position 7`},
	{"short unicode escape", `a eq "\u12"`, 6, `\u must be followed by 4 hex digits`},
	{"bad hex", `a eq "\uZZZZ"`, 6, `\u must be followed by 4 hex digits`},
	{"lone high surrogate", `a eq "\ud800x"`, 6, "high surrogate"},
	{"high surrogate then non-low", `a eq "\ud800\u0041"`, 6, "high surrogate"},
	{"lone low surrogate", `a eq "\udc00"`, 6, "low surrogate"},
	{"raw control char", "a eq \"a\x01b\"", 7, "control character 0x01"},
	{"raw newline in string", "a eq \"a\nb\"", 7, "control character 0x0a"},
	{"invalid utf8", "a eq \"\xff\"", 6, "invalid UTF-8 byte 0xff at position 6"},
	{"single quotes", `a eq 'x'`, 5, "expected a value"},
	{"unquoted with quote", `a eq 2024-01-01T00:00:00"Z"`, 24, "expected a space, ')' or ']' after the value 2024-01-01T00:00:00"},
	{"unquoted with slash", `a eq x/y`, 6, "after the value x"},
	{"number then garbage", `a eq 12"x"`, 7, "after the value 12"},
	{"garbage after value", `a eq "x" y`, 9, "unexpected 'y' at position 9, expected 'and', 'or' or the end of the filter"},
	{"garbage after valuePath", `emails[type eq "x"] pr`, 20, "unexpected 'pr'"},
	{"azure form without operator", `emails[type eq "work"].value`, 28, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after emails[type eq \"work\"].value"},
	{"azure form bad sub", `emails[type eq "work"].9`, 23, `invalid attribute name "9"`},
	{"space before bracket", `emails [type eq "x"]`, 7, "expected an operator"},
	{"operator only", `eq "x"`, 3, `unexpected string "x" at position 3, expected an operator`},
	{"bracket at start", `[a pr]`, 0, "expected an attribute expression"},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error", tt.in, e)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Pos != tt.pos {
				t.Errorf("Pos = %d, want %d (%s)", pe.Pos, tt.pos, pe.Msg)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.msg)
			}
			if err.Error() != pe.Msg {
				t.Errorf("Error() = %q, want Msg", err.Error())
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Run("length", func(t *testing.T) {
		ok := `x eq "` + strings.Repeat("a", MaxLength-8) + `"`
		if len(ok) != MaxLength-1 {
			t.Fatalf("bad setup %d", len(ok))
		}
		if _, err := Parse(ok); err != nil {
			t.Fatalf("%d bytes: %v", len(ok), err)
		}
		long := `x eq "` + strings.Repeat("a", MaxLength) + `"`
		_, err := Parse(long)
		var pe *Error
		if !errors.As(err, &pe) || pe.Pos != MaxLength || !strings.Contains(pe.Msg, "limit is 4096 bytes") {
			t.Fatalf("got %v", err)
		}
		if _, err := ParsePath(strings.Repeat("a", MaxLength+1)); err == nil {
			t.Fatal("long path accepted")
		}
	})
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "a pr" + strings.Repeat(close, n)
	}
	for _, c := range []struct{ name, open, close string }{
		{"parens", "(", ")"},
		{"not", "not (", ")"},
		{"mixed", "(not (", "))"},
	} {
		t.Run(c.name, func(t *testing.T) {
			levels := 1
			if c.name == "mixed" {
				levels = 2
			}
			ok := nest(c.open, c.close, MaxDepth/levels)
			if _, err := Parse(ok); err != nil {
				t.Fatalf("depth %d: %v", MaxDepth, err)
			}
			_, err := Parse(nest(c.open, c.close, MaxDepth/levels+1))
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nested deeper than 64 levels") {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("valuePath counts", func(t *testing.T) {
		in := strings.Repeat("(", MaxDepth-1) + "emails[type pr]" + strings.Repeat(")", MaxDepth-1)
		if _, err := Parse(in); err != nil {
			t.Fatal(err)
		}
		in = strings.Repeat("(", MaxDepth) + "emails[type pr]" + strings.Repeat(")", MaxDepth)
		if _, err := Parse(in); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("huge flat chain", func(t *testing.T) {
		// Long and/or chains are iterative, not recursive: accepted.
		in := strings.TrimSuffix(strings.Repeat("a pr or ", MaxLength/8), " or ")
		e, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		assertRoundTrip(t, e)
	})
	t.Run("deep garbage", func(t *testing.T) {
		// Unbalanced opens far beyond the limit fail fast with a limit error.
		_, err := Parse(strings.Repeat("(", MaxLength))
		if err == nil || !strings.Contains(err.Error(), "nested deeper") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestValueString(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{str(`a"b\c`), `"a\"b\\c"`},
		{str("\n\t\x00"), `"\n\t\u0000"`},
		{str("é<>&"), `"é<>&"`},
		{num("1.5e3"), `1.5e3`},
		{vTrue, "true"}, {vFalse, "false"}, {vNull, "null"}, {Value{}, ""},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%#v.String() = %s, want %s", c.v, got, c.want)
		}
	}
}

func TestOpStrings(t *testing.T) {
	want := []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"}
	for i, w := range want {
		op := Eq + CompareOp(i)
		if op.String() != w {
			t.Errorf("%d: %s", i, op)
		}
		got, ok := lookupCompareOp(strings.ToUpper(w))
		if !ok || got != op {
			t.Errorf("lookup %s", w)
		}
	}
	if And.String() != "and" || Or.String() != "or" {
		t.Error("logical")
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "1e5": true, "1E+5": true, "-1.5e-5": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "1e+": false, "+1": false,
		"0x10": false, "1_000": false, "NaN": false, "Inf": false, "1.5.6": false,
	} {
		if got := IsJSONNumber(s); got != want {
			t.Errorf("IsJSONNumber(%q) = %v", s, got)
		}
	}
}

func TestParseLimited(t *testing.T) {
	if _, err := ParseLimited(`((a pr))`, Limits{Depth: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseLimited(`(((a pr)))`, Limits{Depth: 2}); err == nil || !strings.Contains(err.Error(), "deeper than 2") {
		t.Fatalf("depth 3 under a limit of 2: %v", err)
	}
	if _, err := ParseLimited(`userName pr`, Limits{Length: 10}); err == nil || !strings.Contains(err.Error(), "limit is 10 bytes") {
		t.Fatalf("length: %v", err)
	}
	// Above the defaults when configured so.
	deep := strings.Repeat("(", MaxDepth+10) + "a pr" + strings.Repeat(")", MaxDepth+10)
	if _, err := ParseLimited(deep, Limits{Depth: 200}); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(deep); err == nil {
		t.Fatal("Parse keeps MaxDepth")
	}
}
