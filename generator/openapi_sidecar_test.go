package generator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// withSidecar copies the device case's schemas into a temporary root and
// adds a codegen.yaml, so the test does not depend on schemas/.
func withSidecar(t *testing.T, sidecar string) string {
	t.Helper()
	root := t.TempDir()
	src := "testdata/device/schemas"
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, "schemas", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "schemas", "codegen.yaml"), []byte(sidecar), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func renderedSpec(t *testing.T, root string) *openapi3.T {
	t.Helper()
	files, err := Render(Options{Root: root, Schemas: "schemas"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == "openapi.yaml" {
			doc, err := openapi3.NewLoader().LoadFromData(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return doc
		}
	}
	t.Fatal("no openapi.yaml rendered")
	return nil
}

// TestOpenAPIFromSidecar checks that what partners read in info and
// servers comes from the sidecar, and the defaults without it.
func TestOpenAPIFromSidecar(t *testing.T) {
	doc := renderedSpec(t, withSidecar(t, `
openapi:
  title: Devices SCIM API
  version: 3.2.1
  description: Provisioning of Acme devices.
  termsOfService: https://acme.example.org/terms
  contact: {name: Identity team, email: identity@acme.example.org}
  license: {name: Apache 2.0, identifier: Apache-2.0}
  servers:
    - url: "https://scim.acme.example.org/t/{tenant}/scim/v2"
      description: Production
      variables: {tenant: {default: acme}}
`))
	i := doc.Info
	if i.Title != "Devices SCIM API" || i.Version != "3.2.1" || i.TermsOfService != "https://acme.example.org/terms" {
		t.Errorf("info = %+v", i)
	}
	if !strings.HasPrefix(i.Description, "Provisioning of Acme devices.\n\n") || !strings.Contains(i.Description, "Device at /Devices") {
		t.Errorf("description %q: want the sidecar's, then the resource types", i.Description)
	}
	if i.Contact == nil || i.Contact.Email != "identity@acme.example.org" || i.Contact.Name != "Identity team" {
		t.Errorf("contact = %+v", i.Contact)
	}
	if i.License == nil || i.License.Name != "Apache 2.0" || i.License.URL != "https://spdx.org/licenses/Apache-2.0.html" {
		t.Errorf("license = %+v", i.License)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://scim.acme.example.org/t/{tenant}/scim/v2" || doc.Servers[0].Variables["tenant"].Default != "acme" {
		t.Errorf("servers = %+v", doc.Servers)
	}
	// Example locations follow an absolute server; this one has a variable.
	if loc := doc.Components.Examples["Device"].Value.Value.(map[string]any)["meta"].(map[string]any)["location"]; !strings.HasPrefix(loc.(string), "https://scim.example.com/scim/v2/Devices/") {
		t.Errorf("example location %v", loc)
	}

	def := renderedSpec(t, withSidecar(t, "# no openapi section\n"))
	if def.Info.Title == "" || def.Info.Version != DefaultAPIVersion || def.Info.License == nil || def.Info.License.URL != "https://docs.example.com/devices/scim" {
		t.Errorf("defaults: info %+v license %+v", def.Info, def.Info.License)
	}
	if len(def.Servers) != 1 || def.Servers[0].URL != "/scim/v2" {
		t.Errorf("default servers %+v", def.Servers)
	}
}

func TestOpenAPISidecarErrors(t *testing.T) {
	for _, c := range []struct{ sidecar, want string }{
		{"openapi:\n  servers: [{url: /scim/v2/}]\n", "schemas/codegen.yaml#/openapi/servers/0/url"},
		{"openapi:\n  contact: {email: nope}\n", "schemas/codegen.yaml#/openapi/contact/email"},
		{"openapi:\n  titel: x\n", `schemas/codegen.yaml#/openapi/titel: unknown key "titel"`},
		{"openapi:\n  securitySchemes: {bearerAuth: {type: http}}\n", "schemas/codegen.yaml#/openapi/securitySchemes/bearerAuth"},
	} {
		_, err := Render(Options{Root: withSidecar(t, c.sidecar), Schemas: "schemas"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one containing %q", c.sidecar, err, c.want)
		}
	}
}
