package discovery

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/fixture"
	"github.com/scimforge/scimforge/scim/schema"
)

func loadTestSet(t *testing.T) *schema.Set {
	t.Helper()
	set, err := schema.Load(fixture.FS, fixture.Root)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestEditServiceProviderConfig(t *testing.T) {
	set := loadTestSet(t)
	d := New(set)
	err := d.EditServiceProviderConfig(func(doc map[string]json.RawMessage) error {
		doc["authenticationSchemes"] = json.RawMessage(`[{"type":"httpbasic","name":"HTTP Basic","description":"d"}]`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.ServiceProviderConfig("https://x.example/scim/v2")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		AuthenticationSchemes []struct{ Type string }
		Meta                  struct{ Location string }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.AuthenticationSchemes) != 1 || got.AuthenticationSchemes[0].Type != "httpbasic" {
		t.Errorf("authenticationSchemes = %+v, want the edited one", got.AuthenticationSchemes)
	}
	if !strings.HasPrefix(got.Meta.Location, "https://x.example/scim/v2/") {
		t.Errorf("meta.location = %q, want it made absolute after the edit", got.Meta.Location)
	}
}
