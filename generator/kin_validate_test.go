package generator

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestKinOpenAPIValidate loads the published openapi.yaml and every golden
// one as a partner's Go tooling would, and validates them with
// kin-openapi's default options, which include checking every example
// against its schema (as a request or a response).
func TestKinOpenAPIValidate(t *testing.T) {
	docs, _ := filepath.Glob("testdata/*/want/openapi.yaml")
	docs = append(docs, "../openapi.yaml", "internal/openapi/testdata/small.golden.yaml")
	for _, d := range docs {
		doc, err := openapi3.NewLoader().LoadFromFile(d)
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", d, err)
		}
		if len(doc.Components.Examples) == 0 {
			t.Errorf("%s has no examples to validate", d)
		}
	}
}
