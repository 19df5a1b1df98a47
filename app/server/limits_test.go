package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

func limitedHandler(t *testing.T, l config.Limits) http.Handler {
	t.Helper()
	db, creds, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "t.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, err := Handler(&config.Config{Token: fuzzToken, Limits: l}, db, creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func emails(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, fmt.Sprintf(`{"value":"e%d@example.com"}`, i))
	}
	return `"emails":[` + strings.Join(parts, ",") + `]`
}

// Configured limits are enforced at their value, not below, and advertised
// in /ServiceProviderConfig.
func TestConfiguredLimits(t *testing.T) {
	h := limitedHandler(t, config.Limits{MaxBodyBytes: 4096, MaxValueLength: 20, MaxValues: 3, MaxFilterLength: 40, MaxFilterDepth: 2, MaxResults: 2, BulkMaxOperations: 2, BulkMaxPayloadBytes: 3000})
	tok := fuzzToken
	expect(t, as(h, tok, "", "POST", "/scim/v2/Users", user("a@b.c", `"title":"01234567890123456789",`+emails(3))), 201, "at the limits")
	e := expect(t, as(h, tok, "", "POST", "/scim/v2/Users", user("b@b.c", `"title":"01234567890123456789A"`)), 400, "value one over")
	if !strings.Contains(e["detail"].(string), "title") || e["scimType"] != "invalidValue" {
		t.Errorf("value: %v", e)
	}
	e = expect(t, as(h, tok, "", "POST", "/scim/v2/Users", user("c@b.c", emails(4))), 400, "values one over")
	if !strings.Contains(e["detail"].(string), "emails") {
		t.Errorf("values: %v", e)
	}
	// Characters, not bytes: twenty é are 40 bytes.
	expect(t, as(h, tok, "", "POST", "/scim/v2/Users", user("d@b.c", `"title":"`+strings.Repeat("é", 20)+`"`)), 201, "multibyte at the limit")
	expect(t, as(h, tok, "", "POST", "/scim/v2/Users", user("e@b.c", `"title":"`+strings.Repeat("z", 4096)+`"`)), 413, "body")
	expect(t, as(h, tok, "", "GET", "/scim/v2/Users?filter="+strings.Repeat("a", 41), ""), 400, "filter length")
	expect(t, as(h, tok, "", "GET", "/scim/v2/Users?filter=((userName%20pr))", ""), 200, "filter depth 2")
	e = expect(t, as(h, tok, "", "GET", "/scim/v2/Users?filter=(((userName%20pr)))", ""), 400, "filter depth 3")
	if e["scimType"] != "invalidFilter" {
		t.Errorf("depth: %v", e)
	}
	l := expect(t, as(h, tok, "", "GET", "/scim/v2/Users?count=50", ""), 200, "count clamped")
	if n := len(l["Resources"].([]any)); n != 2 || l["itemsPerPage"].(float64) != 2 {
		t.Errorf("count=50 with maxResults 2: %d resources: %v", n, l)
	}
	if n := len(expect(t, as(h, tok, "", "GET", "/scim/v2/Users", ""), 200, "default count")["Resources"].([]any)); n != 2 {
		t.Errorf("default page with maxResults 2: %d resources", n)
	}
	expect(t, as(h, tok, "", "GET", "/scim/v2/Users?cursor=&count=3", ""), 400, "cursor count over maxPageSize")
	ops := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[` + strings.Repeat(`{"method":"DELETE","path":"/Users/x"},`, 2) + `{"method":"DELETE","path":"/Users/y"}]}`
	expect(t, as(h, tok, "", "POST", "/scim/v2/Bulk", ops), 413, "bulk operations")

	spc := expect(t, as(h, tok, "", "GET", "/scim/v2/ServiceProviderConfig", ""), 200, "spc")
	get := func(k, m string) any { return spc[k].(map[string]any)[m] }
	for _, c := range []struct {
		k, m string
		want float64
	}{{"filter", "maxResults", 2}, {"pagination", "maxPageSize", 2}, {"pagination", "defaultPageSize", 2}, {"bulk", "maxOperations", 2}, {"bulk", "maxPayloadSize", 3000}} {
		if got := get(c.k, c.m); got != c.want {
			t.Errorf("%s.%s = %v, want %v", c.k, c.m, got, c.want)
		}
	}
	if get("filter", "supported") != true || get("bulk", "supported") != true || spc["authenticationSchemes"] == nil {
		t.Errorf("members beside the limits were lost: %v", spc)
	}
}

// The defaults advertise what the engine enforces, and what Entra ID and
// Okta do stays within them: a group of 12,000 members built by PATCHes of
// 1,000 (Entra sends far fewer per request), then read whole by GET.
func TestDefaultLimitsLetBigGroupsThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 12,000 users")
	}
	h := limitedHandler(t, config.Limits{})
	tok := fuzzToken
	spc := expect(t, as(h, tok, "", "GET", "/scim/v2/ServiceProviderConfig", ""), 200, "spc")
	if m := spc["filter"].(map[string]any)["maxResults"]; m != float64(1000) {
		t.Errorf("filter.maxResults %v", m)
	}
	g := expect(t, as(h, tok, "", "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"All"}`), 201, "group")
	gid := g["id"].(string)
	const batches, per = 12, 1000
	var ops []string
	for i := 0; i < batches*per; i++ {
		ops = append(ops, fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"u%d","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.com"}}`, i, i))
	}
	var ids []string
	for b := 0; b < batches; b++ {
		rec := as(h, tok, "", "POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`+strings.Join(ops[b*per:(b+1)*per], ",")+`]}`)
		var resp struct {
			Operations []struct{ Location, Status string }
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
			t.Fatalf("bulk: %d %.300s", rec.Code, rec.Body)
		}
		for _, op := range resp.Operations {
			if op.Status != "201" {
				t.Fatalf("bulk op %s", op.Status)
			}
			ids = append(ids, op.Location[strings.LastIndex(op.Location, "/")+1:])
		}
	}
	for b := 0; b < batches; b++ {
		var vals []string
		for _, id := range ids[b*per : (b+1)*per] {
			vals = append(vals, `{"value":"`+id+`"}`)
		}
		rec := as(h, tok, "", "PATCH", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[`+strings.Join(vals, ",")+`]}]}`)
		if rec.Code != 204 {
			t.Fatalf("PATCH batch %d: %d %.300s", b, rec.Code, rec.Body)
		}
	}
	rec := as(h, tok, "", "GET", "/scim/v2/Groups/"+gid, "")
	var got struct{ Members []any }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &got) != nil || len(got.Members) != batches*per {
		t.Fatalf("GET group: %d, %d members", rec.Code, len(got.Members))
	}
	t.Logf("GET of a %d-member group: %d bytes (a PUT of it back needs SCIMFORGE_MAX_BODY_BYTES above that)", len(got.Members), rec.Body.Len())
	// The member list is not a multi-valued value of the stored document:
	// SCIMFORGE_MAX_VALUES (1000) does not cap it, and a PUT that keeps it
	// fits the default body limit.
	rec = as(h, tok, "", "PUT", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"All","members":[`+strings.TrimSuffix(strings.Repeat(`{"value":"`+ids[0]+`"},`, 2000), ",")+`]}`)
	if rec.Code != 200 {
		t.Fatalf("PUT with 2,000 member values: %d %.300s", rec.Code, rec.Body)
	}
}

// Without SCIMFORGE_STRICT_ATTRIBUTES an attribute the schema lacks is
// ignored, as Entra ID and Okta need; with it the same body is refused.
func TestStrictAttributesSetting(t *testing.T) {
	body := user("x@example.com", `"favouriteColour":"blue","name":{"givenName":"X","nickname":"Y"}`)
	lax := limitedHandler(t, config.Limits{})
	expect(t, as(lax, fuzzToken, "", "POST", "/scim/v2/Users", body), 201, "lax")
	strict := limitedHandler(t, config.Limits{StrictAttributes: true})
	e := expect(t, as(strict, fuzzToken, "", "POST", "/scim/v2/Users", body), 400, "strict")
	if !strings.Contains(e["detail"].(string), "favouriteColour") {
		t.Errorf("strict: %v", e)
	}
	// What the schema has passes, in any case, with extensions and common
	// attributes, and an unknown URN in schemas is not an attribute.
	ok := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"],` +
		`"USERNAME":"ok@example.com","externalId":"e1","meta":{"resourceType":"User"},"Name":{"GivenName":"O"},"emails":[{"value":"ok@example.com","Type":"work","primary":true}],` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m"}}}`
	id := expect(t, as(strict, fuzzToken, "", "POST", "/scim/v2/Users", ok), 201, "strict, known attributes")["id"].(string)

	// PATCH values: an unknown sub-attribute is dropped without the
	// setting and refused with it; what Entra ID and Okta send passes.
	unknown := patchOps(`{"op":"add","value":{"name":{"middleNames":"x"}}}`)
	laxID := expect(t, as(lax, fuzzToken, "", "POST", "/scim/v2/Users", user("l@example.com", "")), 201, "lax user")["id"].(string)
	expect(t, as(lax, fuzzToken, "", "PATCH", "/scim/v2/Users/"+laxID, unknown), 204, "lax PATCH")
	expect(t, as(strict, fuzzToken, "", "PATCH", "/scim/v2/Users/"+id, unknown), 400, "strict PATCH")
	for _, ops := range []string{
		`{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@example.com"}`,
		`{"op":"Replace","value":{"name.givenName":"N","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"E","active":false}}`,
		`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m2"}}`,
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"C"}}`,
		`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"division":"D"},"phoneNumbers":[{"value":"1","type":"work"}]}}`,
		`{"op":"replace","path":"name","value":{"familyName":"F"}}`,
	} {
		expect(t, as(strict, fuzzToken, "", "PATCH", "/scim/v2/Users/"+id, patchOps(ops)), 204, "strict PATCH "+ops)
	}
}
