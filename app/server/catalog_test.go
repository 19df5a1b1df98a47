package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// badRequest is one entry of the catalog: a request the server must refuse
// with a SCIM error, changing nothing.
type badRequest struct {
	name         string
	method, path string
	header       map[string]string // Content-Type defaults to application/scim+json with a body
	body         string
	status       int
	scimType     string   // "" : the error has no scimType
	words        []string // the detail contains each (case-insensitive)
	allow        string   // 405: the Allow header
	strict       bool     // sent to the server with SCIMFORGE_STRICT_ATTRIBUTES=true
	bulk         bool     // a BulkResponse whose first operation carries the error
	needs        string   // an extension URN the case needs (skipped without it)
}

const (
	userURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
	entURN   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	bulkURN  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	errorURN = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// user is a User body with userName name and the members in extra
// (written as JSON object members, without braces).
func user(name, extra string) string {
	b := `{"schemas":["` + userURN + `"],"userName":"` + name + `"`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

func group(extra string) string {
	return `{"schemas":["` + groupURN + `"],` + extra + `}`
}

func patchOps(ops string) string {
	return `{"schemas":["` + patchURN + `"],"Operations":[` + ops + `]}`
}

func bulkOps(ops string) string {
	return `{"schemas":["` + bulkURN + `"],"Operations":[` + ops + `]}`
}

func nested(n int) string {
	return strings.Repeat("(", n) + `userName eq "x"` + strings.Repeat(")", n)
}

func manyEmails(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"value":"u%d@example.com"}`, i)
	}
	return `"emails":[` + strings.Join(parts, ",") + `]`
}

// catalog returns the bad requests, with {uid}, {gid} and {etag} to be
// replaced by a seeded user's id, a seeded group's id and the user's ETag.
func catalog() []badRequest {
	const U, G = "/scim/v2/Users", "/scim/v2/Groups"
	big := strings.Repeat("x", 900_000)
	long := strings.Repeat("y", 20_000)
	bulkCreate := func(data string) string {
		return bulkOps(`{"method":"POST","path":"/Users","bulkId":"b1","data":` + data + `}`)
	}
	var ops []string
	for i := 0; i < 1001; i++ {
		ops = append(ops, fmt.Sprintf(`{"method":"DELETE","path":"/Users/none%d"}`, i))
	}
	tooManyOps := bulkOps(strings.Join(ops, ","))
	const notJSON, syntax, value, filter, path, mut, noTarget = "not valid JSON", "invalidSyntax", "invalidValue", "invalidFilter", "invalidPath", "mutability", "noTarget"
	cases := []badRequest{
		// Malformed and truncated JSON.
		{name: "missing value", method: "POST", path: U, body: `{"userName":}`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "truncated object", method: "POST", path: U, body: `{"schemas":["` + userURN + `"],"userName":"x"`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "truncated string", method: "POST", path: U, body: `{"userName":"x`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "truncated after comma", method: "POST", path: U, body: `{"userName":"x",`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "empty body", method: "POST", path: U, body: ``, header: map[string]string{"Content-Type": "application/scim+json"}, status: 400, scimType: syntax, words: []string{"empty"}},
		{name: "whitespace body", method: "POST", path: U, body: "  \n\t ", status: 400, scimType: syntax, words: []string{"empty"}},
		{name: "trailing object", method: "POST", path: U, body: user("trail1", "") + user("trail2", ""), status: 400, scimType: syntax, words: []string{"continues after"}},
		{name: "trailing garbage", method: "POST", path: U, body: user("trail3", "") + " xyz", status: 400, scimType: syntax, words: []string{"continues after"}},
		{name: "trailing data on PUT", method: "PUT", path: U + "/{uid}", body: user("alice@example.com", "") + "]", status: 400, scimType: syntax, words: []string{"continues after"}},
		{name: "trailing data on PATCH", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"title","value":"x"}`) + "{}", status: 400, scimType: syntax, words: []string{"continues after"}},
		{name: "top-level array", method: "POST", path: U, body: `[` + user("arr", "") + `]`, status: 400, scimType: syntax, words: []string{"JSON object"}},
		{name: "top-level string", method: "POST", path: U, body: `"userName"`, status: 400, scimType: syntax, words: []string{"JSON object"}},
		{name: "top-level number", method: "POST", path: U, body: `42`, status: 400, scimType: syntax, words: []string{"JSON object"}},
		{name: "control character in string", method: "POST", path: U, body: "{\"userName\":\"a\x01b\"}", status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "comment", method: "POST", path: U, body: `{/* c */"userName":"x"}`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "single quotes", method: "POST", path: U, body: `{'userName':'x'}`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "byte order mark", method: "POST", path: U, body: "\uFEFF" + user("bom", ""), status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "bare word", method: "POST", path: G, body: `displayName`, status: 400, scimType: syntax, words: []string{notJSON}},

		// Wrong types at every level.
		{name: "userName number", method: "POST", path: U, body: `{"schemas":["` + userURN + `"],"userName":5}`, status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName array", method: "POST", path: U, body: `{"schemas":["` + userURN + `"],"userName":["a"]}`, status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName object", method: "POST", path: U, body: `{"schemas":["` + userURN + `"],"userName":{"a":1}}`, status: 400, scimType: value, words: []string{"userName"}},
		{name: "active not boolean", method: "POST", path: U, body: user("t1", `"active":"yes"`), status: 400, scimType: value, words: []string{"active"}},
		{name: "active number", method: "POST", path: U, body: user("t2", `"active":1`), status: 400, scimType: value, words: []string{"active"}},
		{name: "complex as string", method: "POST", path: U, body: user("t3", `"name":"Ann"`), status: 400, scimType: value, words: []string{"name"}},
		{name: "sub-attribute number", method: "POST", path: U, body: user("t4", `"name":{"givenName":7}`), status: 400, scimType: value, words: []string{"givenName"}},
		{name: "multi-valued as object", method: "POST", path: U, body: user("t5", `"emails":{"value":"a@b.c"}`), status: 400, scimType: value, words: []string{"emails"}},
		{name: "multi-valued element string", method: "POST", path: U, body: user("t6", `"emails":["a@b.c"]`), status: 400, scimType: value, words: []string{"emails"}},
		{name: "multi-valued element value number", method: "POST", path: U, body: user("t7", `"emails":[{"value":12}]`), status: 400, scimType: value, words: []string{"emails", "value"}},
		{name: "multi-valued element primary not boolean", method: "POST", path: U, body: user("t8", `"emails":[{"value":"a@b.c","primary":"maybe"}]`), status: 400, scimType: value, words: []string{"primary"}},
		{name: "phoneNumbers element number", method: "POST", path: U, body: user("t9", `"phoneNumbers":[5]`), status: 400, scimType: value, words: []string{"phoneNumbers"}},
		{name: "address sub-attribute boolean", method: "POST", path: U, body: user("t10", `"addresses":[{"formatted":true}]`), status: 400, scimType: value, words: []string{"formatted"}},
		{name: "schemas string", method: "POST", path: U, body: `{"schemas":"` + userURN + `","userName":"t11"}`, status: 400, scimType: value, words: []string{"schemas"}},
		{name: "schemas of numbers", method: "POST", path: U, body: `{"schemas":[1],"userName":"t12"}`, status: 400, scimType: value, words: []string{"schemas"}},
		{name: "externalId number", method: "POST", path: U, body: user("t13", `"externalId":99`), status: 400, scimType: value, words: []string{"externalId"}},
		{name: "extension as string", method: "POST", path: U, body: user("t14", `"`+entURN+`":"x"`), status: 400, scimType: value, words: []string{"enterprise"}, needs: entURN},
		{name: "extension attribute number", method: "POST", path: U, body: user("t15", `"`+entURN+`":{"employeeNumber":7}`), status: 400, scimType: value, words: []string{"employeeNumber"}, needs: entURN},
		{name: "extension complex number", method: "POST", path: U, body: user("t16", `"`+entURN+`":{"manager":7}`), status: 400, scimType: value, words: []string{"manager"}, needs: entURN},
		{name: "extension sub-attribute object", method: "POST", path: U, body: user("t17", `"`+entURN+`":{"manager":{"value":{"id":"x"}}}`), status: 400, scimType: value, words: []string{"manager"}, needs: entURN},
		{name: "group displayName number", method: "POST", path: G, body: group(`"displayName":5`), status: 400, scimType: value, words: []string{"displayName"}},
		{name: "group members object", method: "POST", path: G, body: group(`"displayName":"g1","members":{"value":"x"}`), status: 400, scimType: value, words: []string{"members"}},
		{name: "group member number", method: "POST", path: G, body: group(`"displayName":"g2","members":[5]`), status: 400, scimType: value, words: []string{"members"}},
		{name: "group member value number", method: "POST", path: G, body: group(`"displayName":"g3","members":[{"value":5}]`), status: 400, scimType: value, words: []string{"members"}},
		{name: "PUT wrong type", method: "PUT", path: U + "/{uid}", body: user("alice@example.com", `"active":"sometimes"`), status: 400, scimType: value, words: []string{"active"}},

		// Empty and whitespace-only required strings; missing required ones.
		{name: "userName empty", method: "POST", path: U, body: user("", ""), status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName spaces", method: "POST", path: U, body: user("   ", ""), status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName tabs and newlines", method: "POST", path: U, body: user(`\t\n `, ""), status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName missing", method: "POST", path: U, body: `{"schemas":["` + userURN + `"],"displayName":"No Name"}`, status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName null", method: "POST", path: U, body: `{"schemas":["` + userURN + `"],"userName":null}`, status: 400, scimType: value, words: []string{"userName"}},
		{name: "null body", method: "POST", path: U, body: `null`, status: 400, scimType: value, words: []string{"schemas"}},
		{name: "userName no-break spaces", method: "POST", path: U, body: user(`\u00a0\u00a0`, ""), status: 400, scimType: value, words: []string{"userName"}},
		{name: "userName em space", method: "POST", path: U, body: user("\u2003", ""), status: 400, scimType: value, words: []string{"userName"}},
		{name: "PUT userName spaces", method: "PUT", path: U + "/{uid}", body: user("  ", ""), status: 400, scimType: value, words: []string{"userName"}},
		{name: "bulk userName blank", method: "POST", path: "/scim/v2/Bulk", body: bulkCreate(user("  ", "")), bulk: true, status: 400, scimType: value, words: []string{"userName"}},
		{name: "schemas missing", method: "POST", path: U, body: `{"userName":"noschemas"}`, status: 400, scimType: value, words: []string{"schemas"}},
		{name: "schemas wrong", method: "POST", path: U, body: `{"schemas":["urn:example:nope"],"userName":"wrongschemas"}`, status: 400, scimType: value, words: []string{"schemas"}},

		// Oversized values and arrays.
		{name: "900 KB title", method: "POST", path: U, body: user("big1", `"title":"`+big+`"`), status: 400, scimType: value, words: []string{"title", "characters", "limit"}},
		{name: "20,000 emails", method: "POST", path: U, body: user("big2", manyEmails(20_000)), status: 400, scimType: value, words: []string{"emails", "20000 values", "limit"}},
		{name: "long userName", method: "POST", path: U, body: user(long, ""), status: 400, scimType: value, words: []string{"userName", "limit"}},
		{name: "long sub-attribute", method: "POST", path: U, body: user("big3", `"name":{"givenName":"`+long+`"}`), status: 400, scimType: value, words: []string{"name.givenName"}},
		{name: "long multi-valued sub-attribute", method: "POST", path: U, body: user("big4", `"emails":[{"value":"a@b.c"},{"value":"`+long+`"}]`), status: 400, scimType: value, words: []string{"emails.value"}},
		{name: "long extension attribute", method: "POST", path: U, body: user("big5", `"`+entURN+`":{"department":"`+long+`"}`), status: 400, scimType: value, words: []string{entURN + ":department"}, needs: entURN},
		{name: "long multibyte displayName", method: "POST", path: G, body: group(`"displayName":"` + strings.Repeat("é", 16_385) + `"`), status: 400, scimType: value, words: []string{"displayName", "16385 characters"}},
		{name: "long PUT", method: "PUT", path: U + "/{uid}", body: user("alice@example.com", `"title":"`+big+`"`), status: 400, scimType: value, words: []string{"title"}},
		{name: "PATCH long value", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"title","value":"` + big + `"}`), status: 400, scimType: value, words: []string{"title"}},
		{name: "PATCH path-less long value", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","value":{"nickName":"` + long + `"}}`), status: 400, scimType: value, words: []string{"nickName"}},
		{name: "PATCH too many values", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"add","path":"emails","value":[` + strings.TrimSuffix(strings.TrimPrefix(manyEmails(1001), `"emails":[`), "]") + `]}`), status: 400, scimType: value, words: []string{"emails", "limit"}},
		{name: "body over 1 MiB", method: "POST", path: U, body: user("big6", `"title":"`+strings.Repeat("z", 1<<20)+`"`), status: 413, words: []string{"larger than", "bytes"}},
		{name: "PATCH body over 1 MiB", method: "PATCH", path: G + "/{gid}", body: patchOps(`{"op":"replace","path":"displayName","value":"` + strings.Repeat("z", 1<<20) + `"}`), status: 413, words: []string{"larger than"}},
		{name: "bulk over maxOperations", method: "POST", path: "/scim/v2/Bulk", body: tooManyOps, status: 413, words: []string{"maxOperations"}},
		{name: "bulk over maxPayloadSize", method: "POST", path: "/scim/v2/Bulk", body: bulkCreate(user("big7", `"title":"`+strings.Repeat("z", 5<<20)+`"`)), status: 413, words: []string{"larger than 4194304 bytes"}},
		{name: "bulk operation long value", method: "POST", path: "/scim/v2/Bulk", body: bulkCreate(user("big8", `"title":"`+big+`"`)), bulk: true, status: 400, scimType: value, words: []string{"title"}},
		{name: "filter too long", method: "GET", path: U + "?filter=" + strings.Repeat("a", 5000) + "%20pr", status: 400, scimType: filter, words: []string{"limit is 4096 bytes"}},
		{name: "filter too deep", method: "GET", path: U + "?filter=" + urlEscape(nested(70)), status: 400, scimType: filter, words: []string{"nested deeper than 64"}},
		{name: "search filter too deep", method: "POST", path: U + "/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":` + jsonString(nested(70)) + `}`, status: 400, scimType: filter, words: []string{"nested deeper"}},
		{name: "root search filter too long", method: "POST", path: "/scim/v2/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"` + strings.Repeat("a", 5000) + ` pr"}`, status: 400, scimType: filter, words: []string{"limit"}},

		// Unknown attributes under SCIMFORGE_STRICT_ATTRIBUTES.
		{name: "strict unknown top-level", strict: true, method: "POST", path: U, body: user("s1", `"favouriteColour":"blue"`), status: 400, scimType: syntax, words: []string{"favouriteColour", "unknown attribute"}},
		{name: "strict unknown sub-attribute", strict: true, method: "POST", path: U, body: user("s2", `"name":{"givenName":"A","middleNames":"B"}`), status: 400, scimType: syntax, words: []string{"name.middleNames"}},
		{name: "strict unknown multi-valued sub-attribute", strict: true, method: "POST", path: U, body: user("s3", `"emails":[{"value":"a@b.c","label":"x"}]`), status: 400, scimType: syntax, words: []string{"emails.label"}},
		{name: "strict unknown extension attribute", strict: true, method: "POST", path: U, body: user("s4", `"`+entURN+`":{"costCentre":"x"}`), status: 400, scimType: syntax, words: []string{entURN + ":costCentre"}, needs: entURN},
		{name: "strict unknown extension", strict: true, method: "POST", path: U, body: user("s5", `"urn:example:unknown:2.0:User":{"a":"b"}`), status: 400, scimType: syntax, words: []string{"urn:example:unknown:2.0:User"}},
		{name: "strict extension attribute without its URN", strict: true, method: "POST", path: U, body: user("s6", `"department":"x"`), status: 400, scimType: syntax, words: []string{"department"}},
		{name: "strict unknown on PUT", strict: true, method: "PUT", path: U + "/{uid}", body: user("alice@example.com", `"shoeSize":42`), status: 400, scimType: syntax, words: []string{"shoeSize"}},
		{name: "strict unknown on group", strict: true, method: "POST", path: G, body: group(`"displayName":"s7","owner":"me"`), status: 400, scimType: syntax, words: []string{"owner"}},
		{name: "strict unknown member sub-attribute", strict: true, method: "POST", path: G, body: group(`"displayName":"s8","members":[{"value":"{uid}","role":"admin"}]`), status: 400, scimType: syntax, words: []string{"members.role"}},
		{name: "strict PATCH unknown sub-attribute", strict: true, method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"add","value":{"name":{"middleNames":"x"}}}`), status: 400, scimType: syntax, words: []string{"name.middleNames"}},
		{name: "strict PATCH unknown in multi-valued value", strict: true, method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"add","path":"emails","value":[{"value":"a@b.c","label":"x"}]}`), status: 400, scimType: syntax, words: []string{"emails.label"}},
		{name: "strict PATCH unknown in complex value", strict: true, method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"name","value":{"nick":"x"}}`), status: 400, scimType: syntax, words: []string{"name.nick"}},
		{name: "PATCH path-less unknown attribute", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","value":{"shoeSize":1}}`), status: 400, scimType: path, words: []string{"shoeSize"}},
		{name: "strict unknown in bulk", strict: true, method: "POST", path: "/scim/v2/Bulk", body: bulkCreate(user("s9", `"hatSize":3`)), bulk: true, status: 400, scimType: syntax, words: []string{"hatSize"}},

		// Invalid UTF-8.
		{name: "invalid UTF-8 in body", method: "POST", path: U, body: user("bad\xffutf8", ""), status: 400, scimType: syntax, words: []string{"UTF-8"}},
		{name: "overlong UTF-8", method: "POST", path: U, body: user("bad\xc0\xafutf8", ""), status: 400, scimType: syntax, words: []string{"UTF-8"}},
		{name: "truncated UTF-8 sequence", method: "POST", path: G, body: group(`"displayName":"caf` + "\xc3" + `"`), status: 400, scimType: syntax, words: []string{"UTF-8"}},
		{name: "invalid UTF-8 in PATCH", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"title","value":"` + "\xfe\xfe" + `"}`), status: 400, scimType: syntax, words: []string{"UTF-8"}},
		{name: "invalid UTF-8 in PUT", method: "PUT", path: U + "/{uid}", body: user("alice@example.com", `"title":"`+"\xed\xa0\x80"+`"`), status: 400, scimType: syntax, words: []string{"UTF-8"}},
		{name: "invalid UTF-8 in bulk", method: "POST", path: "/scim/v2/Bulk", body: bulkCreate(user("bad\xff", "")), status: 400, scimType: syntax, words: []string{"UTF-8"}},
		{name: "invalid UTF-8 in filter", method: "GET", path: U + "?filter=userName%20eq%20%22%FF%22", status: 400, scimType: value, words: []string{"filter", "UTF-8"}},
		{name: "invalid UTF-8 in attributes", method: "GET", path: U + "/{uid}?attributes=%C3%28", status: 400, scimType: value, words: []string{"attributes", "UTF-8"}},
		{name: "invalid UTF-8 in search body", method: "POST", path: U + "/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"` + "\xff" + `\""}`, status: 400, scimType: syntax, words: []string{"UTF-8"}},

		// Bad query parameters.
		{name: "count not a number", method: "GET", path: U + "?count=abc", status: 400, scimType: value, words: []string{"count", "whole number", `"abc"`}},
		{name: "count fraction", method: "GET", path: U + "?count=1.5", status: 400, scimType: value, words: []string{"count", "whole number"}},
		{name: "count overflow", method: "GET", path: U + "?count=99999999999999999999", status: 400, scimType: value, words: []string{"count"}},
		{name: "count twice", method: "GET", path: U + "?count=1&count=2", status: 400, scimType: value, words: []string{"count", "more than once"}},
		{name: "startIndex not a number", method: "GET", path: U + "?startIndex=abc", status: 400, scimType: value, words: []string{"startIndex", "whole number"}},
		{name: "startIndex on groups", method: "GET", path: G + "?startIndex=1e3", status: 400, scimType: value, words: []string{"startIndex"}},
		{name: "sortOrder unknown", method: "GET", path: U + "?sortBy=userName&sortOrder=sideways", status: 400, scimType: value, words: []string{"sortOrder", "ascending"}},
		{name: "sortBy unknown attribute", method: "GET", path: U + "?sortBy=shoeSize", status: 400, scimType: value, words: []string{"sortBy", "shoeSize"}},
		{name: "sortBy syntax", method: "GET", path: U + "?sortBy=emails%5B", status: 400, scimType: value, words: []string{"sortBy"}},
		{name: "attributes syntax", method: "GET", path: U + "?attributes=emails%5Btype", status: 400, scimType: filter, words: []string{"attributes"}},
		{name: "attributes unknown", method: "GET", path: U + "/{uid}?attributes=shoeSize", status: 400, scimType: value, words: []string{"attributes", "shoeSize"}},
		{name: "excludedAttributes syntax", method: "GET", path: G + "?excludedAttributes=members..value", status: 400, scimType: value, words: []string{"excludedAttributes"}},
		{name: "filter missing value", method: "GET", path: U + "?filter=userName%20eq", status: 400, scimType: filter, words: []string{"filter"}},
		{name: "filter unknown operator", method: "GET", path: U + "?filter=userName%20zz%20%22x%22", status: 400, scimType: filter, words: []string{"zz"}},
		{name: "filter unknown attribute", method: "GET", path: U + "?filter=shoeSize%20eq%20%22x%22", status: 400, scimType: filter, words: []string{"shoeSize"}},
		{name: "filter unbalanced parenthesis", method: "GET", path: U + "?filter=(userName%20eq%20%22x%22", status: 400, scimType: filter, words: []string{"filter"}},
		{name: "filter unterminated string", method: "GET", path: U + "?filter=userName%20eq%20%22x", status: 400, scimType: filter, words: []string{"filter"}},
		{name: "filter on groups", method: "GET", path: G + "?filter=members%5Bvalue%20eq%5D", status: 400, scimType: filter, words: []string{"filter"}},
		{name: "cursor garbage", method: "GET", path: U + "?cursor=not-a-cursor", status: 400, scimType: "invalidCursor", words: []string{"cursor"}},
		{name: "cursor count over maxPageSize", method: "GET", path: U + "?cursor=&count=5000", status: 400, scimType: "invalidCount", words: []string{"count", "1000"}},
		{name: "search count not a number", method: "POST", path: U + "/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":"abc"}`, status: 400, scimType: value, words: []string{"count"}},
		{name: "search body not JSON", method: "POST", path: "/scim/v2/.search", body: `{"filter":`, status: 400, scimType: syntax, words: []string{notJSON}},
		{name: "search sortOrder", method: "POST", path: G + "/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortBy":"displayName","sortOrder":"up"}`, status: 400, scimType: value, words: []string{"sortOrder"}},

		// Bad paths.
		{name: "unknown endpoint", method: "GET", path: "/scim/v2/Nope", status: 404, words: []string{"no SCIM endpoint"}},
		{name: "unknown user", method: "GET", path: U + "/no-such-id", status: 404, words: []string{"no-such-id"}},
		{name: "path below a resource", method: "GET", path: U + "/{uid}/extra", status: 404, words: []string{"no SCIM endpoint"}},
		{name: "wrong version prefix", method: "GET", path: "/scim/v3/Users", status: 404, words: []string{"no SCIM endpoint"}},
		{name: "dot segment", method: "GET", path: "/scim/v2/./Users", status: 404, words: []string{"segment"}},
		{name: "dot-dot segment", method: "DELETE", path: U + "/{uid}/..", status: 404, words: []string{"segment"}},
		{name: "empty segment", method: "POST", path: "/scim/v2//Users", body: user("dbl", ""), status: 404, words: []string{"segment"}},
		{name: "PUT unknown user", method: "PUT", path: U + "/no-such-id", body: user("ghost", ""), status: 404, words: []string{"no-such-id"}},
		{name: "PATCH unknown group", method: "PATCH", path: G + "/no-such-id", body: patchOps(`{"op":"replace","path":"displayName","value":"x"}`), status: 404, words: []string{"no-such-id"}},
		{name: "DELETE unknown user", method: "DELETE", path: U + "/no-such-id", status: 404, words: []string{"no-such-id"}},
		{name: "unknown schema", method: "GET", path: "/scim/v2/Schemas/urn:nope", status: 404, words: []string{"urn:nope"}},
		{name: "unknown resource type", method: "GET", path: "/scim/v2/ResourceTypes/Nope", status: 404, words: []string{"Nope"}},

		// Wrong methods.
		{name: "DELETE collection", method: "DELETE", path: U, status: 405, allow: "GET, POST", words: []string{"DELETE", "not supported"}},
		{name: "PUT collection", method: "PUT", path: U, body: user("x", ""), status: 405, allow: "GET, POST", words: []string{"PUT"}},
		{name: "PATCH collection", method: "PATCH", path: G, body: patchOps(""), status: 405, allow: "GET, POST", words: []string{"PATCH"}},
		{name: "POST to a resource", method: "POST", path: U + "/{uid}", body: user("x", ""), status: 405, allow: "GET, PUT, PATCH, DELETE", words: []string{"POST"}},
		{name: "POST ServiceProviderConfig", method: "POST", path: "/scim/v2/ServiceProviderConfig", body: `{}`, status: 405, allow: "GET", words: []string{"POST"}},
		{name: "DELETE Schemas", method: "DELETE", path: "/scim/v2/Schemas", status: 405, allow: "GET", words: []string{"DELETE"}},
		{name: "GET Bulk", method: "GET", path: "/scim/v2/Bulk", status: 405, allow: "POST", words: []string{"GET"}},
		{name: "GET root search", method: "GET", path: "/scim/v2/.search", status: 405, allow: "POST", words: []string{"GET"}},

		// Wrong content types.
		{name: "text/plain", method: "POST", path: U, header: map[string]string{"Content-Type": "text/plain"}, body: user("ct1", ""), status: 415, words: []string{"Content-Type", "application/scim+json"}},
		{name: "XML on PUT", method: "PUT", path: U + "/{uid}", header: map[string]string{"Content-Type": "application/xml"}, body: user("alice@example.com", ""), status: 415, words: []string{"application/xml"}},
		{name: "form on PATCH", method: "PATCH", path: U + "/{uid}", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "op=replace", status: 415, words: []string{"Content-Type"}},
		{name: "HTML on Bulk", method: "POST", path: "/scim/v2/Bulk", header: map[string]string{"Content-Type": "text/html"}, body: bulkOps(""), status: 415, words: []string{"Content-Type"}},
		{name: "malformed media type", method: "POST", path: G, header: map[string]string{"Content-Type": "application/"}, body: group(`"displayName":"ct2"`), status: 415, words: []string{"Content-Type"}},

		// Bad PATCH bodies.
		{name: "PATCH unknown op", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"frobnicate","path":"title","value":"x"}`), status: 400, scimType: syntax, words: []string{"frobnicate"}},
		{name: "PATCH op number", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":5,"path":"title","value":"x"}`), status: 400, scimType: syntax, words: []string{"op"}},
		{name: "PATCH no Operations", method: "PATCH", path: U + "/{uid}", body: `{"schemas":["` + patchURN + `"]}`, status: 400, scimType: syntax, words: []string{"Operations"}},
		{name: "PATCH empty Operations", method: "PATCH", path: U + "/{uid}", body: patchOps(""), status: 400, scimType: syntax, words: []string{"Operations"}},
		{name: "PATCH Operations object", method: "PATCH", path: U + "/{uid}", body: `{"schemas":["` + patchURN + `"],"Operations":{"op":"add"}}`, status: 400, scimType: syntax, words: []string{"Operations"}},
		{name: "PATCH wrong schemas", method: "PATCH", path: U + "/{uid}", body: `{"schemas":["` + userURN + `"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`, status: 400, scimType: syntax, words: []string{"schemas"}},
		{name: "PATCH unknown path", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"shoeSize","value":"x"}`), status: 400, scimType: path, words: []string{"shoeSize"}},
		{name: "PATCH path syntax", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"emails[type eq","value":"x"}`), status: 400, scimType: filter, words: []string{"path"}},
		{name: "PATCH path number", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":7,"value":"x"}`), status: 400, scimType: path, words: []string{"path"}},
		{name: "PATCH value wrong type", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"active","value":"sometimes"}`), status: 400, scimType: value, words: []string{"active"}},
		{name: "PATCH value array for singular", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"title","value":["a","b"]}`), status: 400, scimType: value, words: []string{"title"}},
		{name: "PATCH add without value", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"add","path":"title"}`), status: 400, scimType: syntax, words: []string{"value"}},
		{name: "PATCH remove without path", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"remove"}`), status: 400, scimType: noTarget, words: []string{"path"}},
		{name: "PATCH replace id", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"id","value":"other"}`), status: 400, scimType: mut, words: []string{"id"}},
		{name: "PATCH replace meta.created", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}`), status: 400, scimType: mut, words: []string{"meta"}},
		{name: "PATCH userName blank", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"userName","value":"   "}`), status: 400, scimType: value, words: []string{"userName"}},
		{name: "PATCH remove required", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"remove","path":"userName"}`), status: 400, scimType: value, words: []string{"userName"}},
		{name: "PATCH unknown member", method: "PATCH", path: G + "/{gid}", body: patchOps(`{"op":"add","path":"members","value":[{"value":"no-such-user"}]}`), status: 400, scimType: value, words: []string{"no-such-user"}},
		{name: "PATCH members wrong type", method: "PATCH", path: G + "/{gid}", body: patchOps(`{"op":"add","path":"members","value":42}`), status: 400, scimType: value, words: []string{"members"}},
		{name: "PATCH member filter syntax", method: "PATCH", path: G + "/{gid}", body: patchOps(`{"op":"remove","path":"members[value eq"}`), status: 400, scimType: filter, words: []string{"path"}},
		{name: "PATCH extension wrong type", method: "PATCH", path: U + "/{uid}", body: patchOps(`{"op":"replace","path":"` + entURN + `:employeeNumber","value":{"a":1}}`), status: 400, scimType: value, words: []string{"employeeNumber"}, needs: entURN},

		// Bad Bulk bodies.
		{name: "bulk not JSON", method: "POST", path: "/scim/v2/Bulk", body: `{"Operations":[`, status: 400, scimType: syntax, words: []string{"JSON"}},
		{name: "bulk wrong schemas", method: "POST", path: "/scim/v2/Bulk", body: `{"schemas":["` + patchURN + `"],"Operations":[]}`, status: 400, scimType: syntax, words: []string{"schemas"}},
		{name: "bulk Operations object", method: "POST", path: "/scim/v2/Bulk", body: `{"schemas":["` + bulkURN + `"],"Operations":{}}`, status: 400, scimType: syntax, words: []string{"Operations"}},
		{name: "bulk duplicate bulkId", method: "POST", path: "/scim/v2/Bulk", body: bulkOps(`{"method":"POST","path":"/Users","bulkId":"d","data":` + user("d1", "") + `},{"method":"POST","path":"/Users","bulkId":"d","data":` + user("d2", "") + `}`), status: 400, scimType: value, words: []string{"bulkId"}},
		{name: "bulk failOnErrors string", method: "POST", path: "/scim/v2/Bulk", body: `{"schemas":["` + bulkURN + `"],"failOnErrors":"x","Operations":[]}`, status: 400, scimType: value, words: []string{"failOnErrors"}},
		{name: "bulk operation GET", method: "POST", path: "/scim/v2/Bulk", body: bulkOps(`{"method":"GET","path":"/Users/{uid}"}`), bulk: true, status: 400, scimType: syntax, words: []string{"GET"}},
		{name: "bulk POST without bulkId", method: "POST", path: "/scim/v2/Bulk", body: bulkOps(`{"method":"POST","path":"/Users","data":` + user("nobulkid", "") + `}`), bulk: true, status: 400, scimType: syntax, words: []string{"bulkId"}},
		{name: "bulk unknown endpoint", method: "POST", path: "/scim/v2/Bulk", body: bulkOps(`{"method":"POST","path":"/Nope","bulkId":"n","data":{}}`), bulk: true, status: 400, scimType: path, words: []string{"/Nope"}},
		{name: "bulk data wrong type", method: "POST", path: "/scim/v2/Bulk", body: bulkCreate(`{"schemas":["` + userURN + `"],"userName":5}`), bulk: true, status: 400, scimType: value, words: []string{"userName"}},
		{name: "bulk unknown bulkId reference", method: "POST", path: "/scim/v2/Bulk", body: bulkOps(`{"method":"PATCH","path":"/Groups/{gid}","data":` + patchOps(`{"op":"add","path":"members","value":[{"value":"bulkId:nowhere"}]}`) + `}`), bulk: true, status: 400, scimType: value, words: []string{"nowhere"}},
		{name: "bulk stale version", method: "POST", path: "/scim/v2/Bulk", body: bulkOps(`{"method":"DELETE","path":"/Users/{uid}","version":"W/\"999\""}`), bulk: true, status: 412, words: []string{"version"}},

		// Bad preconditions: nothing changes.
		{name: "PUT stale If-Match", method: "PUT", path: U + "/{uid}", header: map[string]string{"If-Match": `W/"999"`}, body: user("alice@example.com", `"title":"changed"`), status: 412, words: []string{"If-Match"}},
		{name: "PATCH garbage If-Match", method: "PATCH", path: U + "/{uid}", header: map[string]string{"If-Match": `garbage`}, body: patchOps(`{"op":"replace","path":"title","value":"changed"}`), status: 412, words: []string{"If-Match"}},
		{name: "DELETE stale If-Match", method: "DELETE", path: U + "/{uid}", header: map[string]string{"If-Match": `W/"0"`}, status: 412, words: []string{"If-Match"}},
		{name: "GET stale If-Match", method: "GET", path: U + "/{uid}", header: map[string]string{"If-Match": `"nope"`}, status: 412, words: []string{"If-Match"}},
		{name: "PUT If-None-Match star", method: "PUT", path: G + "/{gid}", header: map[string]string{"If-None-Match": `*`}, body: group(`"displayName":"renamed"`), status: 412, words: []string{"If-None-Match"}},
		{name: "PATCH If-None-Match current", method: "PATCH", path: U + "/{uid}", header: map[string]string{"If-None-Match": `{etag}`}, body: patchOps(`{"op":"replace","path":"title","value":"changed"}`), status: 412, words: []string{"If-None-Match"}},
	}
	return cases
}

// internals are what a detail must never show a client.
// (Case-sensitive: "valid JSON: …" is fine, Go's "json: cannot …" is not.)
var internals = regexp.MustCompile(`strconv|json: |\b(?i:sql)\b|\bsql[a-z]|\bbun\b|goroutine|\.go\b|/home/|/work/|/tmp/|resource\.[A-Z]|map\[|\[\]interface|\binterface \{|struct \{|\*[a-z]+\.[A-Z]|Go struct|Go value|(?i:unmarshal)|panic|runtime error|nil pointer|unexpected EOF`)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func urlEscape(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "(", "%28", ")", "%29")
	return r.Replace(s)
}

// TestBadInputCatalog sends every request of the catalog to the real
// handler over a seeded database, on SQLite and PostgreSQL: each is answered
// with a SCIM error of the right status and scimType whose detail says what
// is wrong without Go internals, and the database (every row of every
// table) is the same afterwards.
func TestBadInputCatalog(t *testing.T) {
	if n := len(catalog()); n < 100 {
		t.Fatalf("the catalog has %d requests; the issue asks for at least 100", n)
	}
	for name, db := range engines(t) {
		t.Run(name, func(t *testing.T) { testBadInputCatalog(t, db()) })
	}
}

func testBadInputCatalog(t *testing.T, dbURL string) {
	db, h, strict := laxAndStrict(t, dbURL)
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	hasExt := map[string]bool{}
	if rt := set.ResourceType("User"); rt != nil && rt.Extension(entURN) != nil {
		hasExt[entURN] = true
	}

	// Seed: users (one with the enterprise extension), a group with members.
	send := func(h http.Handler, method, path string, header map[string]string, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ext := ""
	if hasExt[entURN] {
		ext = `,"` + entURN + `":{"employeeNumber":"42","department":"R&D","manager":{"value":"boss"}}`
	}
	alice := expect(t, send(h, "POST", "/scim/v2/Users", nil, user("alice@example.com", `"title":"Engineer","emails":[{"value":"alice@example.com","type":"work","primary":true}]`+ext)), 201, "seed alice")
	bob := expect(t, send(h, "POST", "/scim/v2/Users", nil, user("bob@example.com", `"active":false`)), 201, "seed bob")
	uid, bid := alice["id"].(string), bob["id"].(string)
	grp := expect(t, send(h, "POST", "/scim/v2/Groups", nil, group(`"displayName":"Engineering","members":[{"value":"`+uid+`"},{"value":"`+bid+`"}]`)), 201, "seed group")
	gid := grp["id"].(string)
	etag := alice["meta"].(map[string]any)["version"].(string)

	before := snapshot(t, db)
	replace := strings.NewReplacer("{uid}", uid, "{gid}", gid, "{etag}", etag)
	counted := 0
	for _, c := range catalog() {
		if c.needs != "" && !hasExt[c.needs] {
			t.Logf("%s: skipped, the app's User has no %s", c.name, c.needs)
			continue
		}
		counted++
		target := h
		if c.strict {
			target = strict
		}
		header := map[string]string{}
		for k, v := range c.header {
			header[k] = replace.Replace(v)
		}
		rec := send(target, c.method, replace.Replace(c.path), header, replace.Replace(c.body))
		checkBad(t, c, rec)
	}
	t.Logf("%d bad requests", counted)
	if after := snapshot(t, db); !slices.Equal(before, after) {
		t.Errorf("the catalog changed stored data:\n%s", diffLines(before, after))
	}
}

func checkBad(t *testing.T, c badRequest, rec *httptest.ResponseRecorder) {
	t.Helper()
	what := fmt.Sprintf("%s (%s %.80s)", c.name, c.method, c.path)
	if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("%s: Content-Type %q: %.300s", what, ct, rec.Body)
		return
	}
	var e map[string]any
	if c.bulk {
		if rec.Code != 200 {
			t.Errorf("%s: status %d, want a BulkResponse: %.300s", what, rec.Code, rec.Body)
			return
		}
		var resp struct {
			Operations []struct {
				Status   string         `json:"status"`
				Response map[string]any `json:"response"`
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Operations) == 0 {
			t.Errorf("%s: not a BulkResponse with operations: %v %.300s", what, err, rec.Body)
			return
		}
		op := resp.Operations[0]
		if op.Status != fmt.Sprint(c.status) {
			t.Errorf("%s: operation status %s, want %d: %.300s", what, op.Status, c.status, rec.Body)
			return
		}
		e = op.Response
	} else {
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d: %.300s", what, rec.Code, c.status, rec.Body)
			return
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Errorf("%s: body is not JSON: %v", what, err)
			return
		}
	}
	if s, _ := e["schemas"].([]any); len(s) != 1 || s[0] != errorURN {
		t.Errorf("%s: schemas %v, want the Error URN", what, e["schemas"])
	}
	if e["status"] != fmt.Sprint(c.status) {
		t.Errorf("%s: status member %v (%T), want the string %q", what, e["status"], e["status"], fmt.Sprint(c.status))
	}
	st, _ := e["scimType"].(string)
	if st != c.scimType {
		t.Errorf("%s: scimType %q, want %q: %v", what, st, c.scimType, e["detail"])
	}
	detail, _ := e["detail"].(string)
	if strings.TrimSpace(detail) == "" {
		t.Errorf("%s: no detail", what)
	}
	for _, w := range c.words {
		if !strings.Contains(strings.ToLower(detail), strings.ToLower(w)) {
			t.Errorf("%s: detail %q does not say %q", what, clip(detail), w)
		}
	}
	if m := internals.FindString(detail); m != "" {
		t.Errorf("%s: detail shows internals (%q): %q", what, m, clip(detail))
	}
	if len(detail) > 2000 {
		t.Errorf("%s: detail is %d bytes long", what, len(detail))
	}
	if c.allow != "" && rec.Header().Get("Allow") != c.allow {
		t.Errorf("%s: Allow %q, want %q", what, rec.Header().Get("Allow"), c.allow)
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// snapshot is every row of every table of db, each as "table: col=value
// …" lines, sorted (so no ORDER BY is needed on columns PostgreSQL cannot
// order, such as json).
func snapshot(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if db.Dialect == sqlfilter.Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`
	}
	tables, err := db.Write.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	if len(names) < 5 {
		t.Fatalf("only %d tables: %v", len(names), names)
	}
	var out []string
	for _, name := range names {
		rows, err := db.Write.QueryContext(context.Background(), `SELECT * FROM "`+name+`"`)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var b strings.Builder
			b.WriteString(name + ":")
			for i, v := range vals {
				switch x := v.(type) {
				case []byte:
					v = string(x)
				case time.Time:
					v = x.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&b, " %s=%v", cols[i], v)
			}
			out = append(out, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(out)
	return out
}

func diffLines(a, b []string) string {
	var d strings.Builder
	for _, l := range a {
		if !slices.Contains(b, l) {
			d.WriteString("- " + clip(l) + "\n")
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			d.WriteString("+ " + clip(l) + "\n")
		}
	}
	return d.String()
}

// laxAndStrict opens dbURL and returns the handler over it twice: with the
// default settings, and with SCIMFORGE_STRICT_ATTRIBUTES on.
func laxAndStrict(tb testing.TB, dbURL string) (db *sqlstore.DB, lax, strict http.Handler) {
	db, creds, err := Open(context.Background(), dbURL, sqlstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	if lax, err = Handler(&config.Config{Token: fuzzToken}, db, creds, log); err != nil {
		tb.Fatal(err)
	}
	if strict, err = Handler(&config.Config{Token: fuzzToken, Limits: config.Limits{StrictAttributes: true}}, db, creds, log); err != nil {
		tb.Fatal(err)
	}
	return db, lax, strict
}
