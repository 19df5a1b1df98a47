package openapi

import (
	"os"
	"testing"
)

// POST /Bulk follows the ServiceProviderConfig: published when bulk is
// supported (the real schemas), absent when not (testdata/small), and
// never in the codegen view, since the server routes it by hand.
func TestBulkPath(t *testing.T) {
	pub, cg, _, _ := buildBoth(t, realSchemas(t))
	item := pub.Paths.Value("/Bulk")
	if item == nil || item.Post == nil || item.Post.OperationID != "runBulk" {
		t.Fatal("published view: no POST /Bulk (bulk)")
	}
	for _, name := range []string{compBulkRequest, compBulkRequestOp, compBulkResponse, compBulkResponseOp} {
		if pub.Components.Schemas[name] == nil {
			t.Errorf("published view: no component schema %s", name)
		}
	}
	ops := pub.Components.Schemas[compBulkRequest].Value.Properties["Operations"].Value
	if ops.MaxItems == nil || *ops.MaxItems != 1000 {
		t.Errorf("Operations maxItems %v, want the ServiceProviderConfig's maxOperations 1000", ops.MaxItems)
	}
	if item.Post.Responses.Status(413) == nil || item.Post.Responses.Status(200) == nil {
		t.Error("POST /Bulk does not declare 200 and 413")
	}
	if cg.Paths.Value("/Bulk") != nil || cg.Components.Schemas[compBulkRequest] != nil {
		t.Error("codegen view has /Bulk; oapi-codegen would generate a second handler")
	}

	small, _, _, _ := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	if small.Paths.Value("/Bulk") != nil {
		t.Error("testdata/small does not support bulk, yet /Bulk is published")
	}
}
