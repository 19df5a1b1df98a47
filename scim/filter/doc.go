// Package filter parses SCIM 2.0 filter expressions (RFC 7644 §3.4.2.2) and
// attribute paths (PATCH "path", RFC 7644 §3.5.2; "attributes", "sortBy").
//
// The parser is a hand-written recursive-descent parser over the grammar of
// RFC 7644 Figure 1 (with errata 4690/7322 applied: a value filter may
// combine attribute expressions with and/or/not/parentheses but may not
// nest another value path):
//
//	FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//	valuePath = attrPath "[" valFilter "]"
//	valFilter = attrExp / valLogExp / *1"not" "(" valFilter ")"
//	attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//	logExp    = FILTER SP ("and" / "or") SP FILTER
//	compValue = false / null / true / number / string   ; JSON (RFC 7159)
//	compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//	attrPath  = [URI ":"] ATTRNAME *1subAttr
//	ATTRNAME  = ALPHA *(nameChar)
//	nameChar  = "-" / "_" / DIGIT / ALPHA
//	subAttr   = "." ATTRNAME
//	PATH      = attrPath / valuePath [subAttr]           ; RFC 7644 Figure 7
//
// Precedence is grouping, then "not", then "and", then "or"; "and" and "or"
// are left-associative. Operator and keyword matching (eq, AND, Not, PR,
// true, NULL...) is case-insensitive. Attribute names keep the case in which
// they were written; resolving them (case-insensitively) against a schema is
// the caller's job.
//
// # Attribute paths and schema URNs
//
// A URN-qualified attribute such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
// is split at its LAST colon: everything before it is [AttrPath.URN], the
// rest is the attribute name with an optional ".sub" sub-attribute. A bare
// schema URN used as an attribute ("urn:...:enterprise:2.0:User") therefore
// parses as URN "urn:...:enterprise:2.0" and Name "User"; a resolver MUST
// check whether URN+":"+Name is itself a known schema URN before reporting
// an unknown schema. The name "$ref" is accepted as an attribute or
// sub-attribute name (RFC 7643 §2.4 uses it for references).
//
// # Tolerated client quirks
//
// The following forms are not in the RFC grammar but are sent by real
// clients (see the client quirk list Q15-Q19) and are accepted:
//
//   - Microsoft Entra ID writes a comparison on a sub-attribute of a value
//     path: `emails[type eq "work"].value eq "x"`. It is represented as
//     ValuePath{Attr: emails, Filter: (type eq "work") and (value eq "x")},
//     i.e. both conditions must hold for the same value, and it is rendered
//     back in that canonical form.
//   - Quirk Q19: an unquoted comparison value made only of the characters
//     [A-Za-z0-9._@+:-] (`externalId eq jyoung`, `id eq 54D3-AB`, and the
//     dateTime of Microsoft's SCIM collection,
//     `meta.created gt 2015-10-10T14:38:21.8617979-07:00`) is taken as a
//     string, unless it is true/false/null (any case) or a JSON number, in
//     which case it is that literal. Anything else unquoted is an error.
//   - Whitespace: any run of space, tab, CR or LF is accepted where the RFC
//     requires SP, and whitespace is optional next to parentheses, brackets
//     and quoted strings (`not(a pr)`, `a eq"x"`).
//
// URL decoding (%20, + for space, quirk Q15) is the HTTP layer's business;
// this package receives the decoded string.
//
// # Errors and limits
//
// All syntax errors are *Error values carrying a 0-based byte offset and a
// message meant for the administrator reading the provisioning log. Callers
// map them to HTTP 400 with scimType "invalidFilter" (Parse) or
// "invalidPath" (ParsePath). Inputs longer than [MaxLength] bytes, nested
// deeper than [MaxDepth] levels of parentheses / not / brackets, or not
// valid UTF-8 are rejected, so hostile input cannot exhaust the stack.
package filter
