package conformance_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/fixture/fixtureserver"
	"github.com/scimforge/scimforge/scim/conformance"
)

const assetURN = "urn:example:params:scim:schemas:fixture:2.0:Asset"
const auditURN = "urn:example:params:scim:schemas:extension:fixture:2.0:Audit"

// TestFillRequired: what a body lacks of the required attributes (a
// required extension included) is added; what it has, and what skip
// names, is not.
func TestFillRequired(t *testing.T) {
	set, err := fixtureserver.Set()
	if err != nil {
		t.Fatal(err)
	}
	body := `{"schemas":["` + assetURN + `"],"kind":"phone"}`
	out, added := conformance.FillRequiredBody(set, "POST", "/Assets", []byte(body), nil)
	if want := []string{"tag", auditURN + ":auditor"}; !slices.Equal(added, want) {
		t.Fatalf("added %v, want %v", added, want)
	}
	var doc map[string]any
	json.Unmarshal(out, &doc)
	ext, _ := doc[auditURN].(map[string]any)
	if doc["tag"] == nil || ext["auditor"] == nil || doc["kind"] != "phone" || !slices.Contains(doc["schemas"].([]any), any(auditURN)) {
		t.Errorf("filled body %s", out)
	}
	// Present values stay; a Bulk POST is filled by its path; users keep
	// their missing userName when skip says so; a GET is left alone.
	if out, _ := conformance.FillRequiredBody(set, "PUT", "/assets/x", []byte(`{"tag":"T","`+auditURN+`":{"auditor":"A"}}`), nil); out != nil {
		t.Errorf("complete body changed: %s", out)
	}
	bulk := `{"Operations":[{"method":"POST","path":"/Assets","data":{"schemas":["` + assetURN + `"]}},{"method":"DELETE","path":"/Assets/x"}]}`
	if _, added := conformance.FillRequiredBody(set, "POST", "/Bulk", []byte(bulk), nil); len(added) != 2 {
		t.Errorf("bulk: added %v", added)
	}
	if out, _ := conformance.FillRequiredBody(set, "POST", "/Users", []byte(`{"schemas":[]}`), conformance.ShippedRequired); out != nil {
		t.Errorf("userName was added although skipped: %s", out)
	}
	if out, _ := conformance.FillRequiredBody(set, "GET", "/Assets", []byte(body), nil); out != nil {
		t.Errorf("GET body changed")
	}
	// The handler wrapper fills what reaches the handler.
	var got string
	h := conformance.FillRequiredHandler(set, "/scim/v2", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(strings.Builder)
		json.NewDecoder(r.Body).Decode(&doc)
		json.NewEncoder(b).Encode(doc)
		got = b.String()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/t/a/scim/v2/Assets", strings.NewReader(body)))
	if !strings.Contains(got, `"tag"`) || !strings.Contains(got, "auditor") {
		t.Errorf("the handler got %s", got)
	}
}
