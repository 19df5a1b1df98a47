package schema

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/internal/txtarfs"
)

// FuzzLoad feeds arbitrary bytes to the loader as one more file of a valid
// schema set (so the bytes can be a schema, a resource type, a second
// ServiceProviderConfig or anything else). The loader must not panic, must
// report problems only as Problems whose pointers lead into the document,
// must be deterministic, and a set it accepts must be complete.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob("testdata/problems/*.txt")
	for _, p := range paths {
		a, err := txtarfs.Read(p)
		if err != nil {
			f.Fatal(err)
		}
		for name, body := range a.Files {
			if strings.HasSuffix(name, ".json") {
				f.Add([]byte(body))
			}
		}
	}
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":"urn:example:Ext","attributes":[{"name":"a","type":"reference","referenceTypes":["Thing"]}]}`))
	base := map[string]string{
		"schemas/ServiceProviderConfig.json": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]}`,
		"schemas/Thing.json": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":"urn:example:Thing","name":"Thing","attributes":[` +
			`{"name":"label","type":"string"},{"name":"owner","type":"complex","subAttributes":[{"name":"value","type":"string"},{"name":"$ref","type":"reference","referenceTypes":["Thing"]}]}]}`,
		"schemas/resourcetypes/Thing.json": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"name":"Thing","endpoint":"/Things","schema":"urn:example:Thing"}`,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"schemas/fuzz.json": &fstest.MapFile{Data: data}}
		for name, body := range base {
			fsys[name] = &fstest.MapFile{Data: []byte(body)}
		}
		set, ps, err := Check(fsys, "schemas")
		if err != nil {
			t.Fatalf("Check: %v (want problems, not an error)", err)
		}
		for _, p := range ps {
			checkPointer(t, fsys, p)
		}
		_, again, _ := Check(fsys, "schemas")
		if ps.Error() != again.Error() {
			t.Fatalf("two loads disagree:\n%v\n---\n%v", ps, again)
		}
		_, err = Load(fsys, "schemas")
		var lps Problems
		switch {
		case len(ps) == 0 && err != nil:
			t.Fatalf("Check found nothing, Load failed: %v", err)
		case len(ps) > 0 && (!errors.As(err, &lps) || len(lps) != len(ps)):
			t.Fatalf("Load: %v; want the %d problems of Check", err, len(ps))
		case len(ps) > 0:
			return
		}
		// An accepted set is complete and usable.
		for _, rt := range set.ResourceTypes {
			if rt.Core == nil || len(rt.Extensions) != len(rt.SchemaExtensions) {
				t.Fatalf("resource type %s not resolved", rt.Name)
			}
			for _, s := range append([]*Schema{rt.Core}, rt.Extensions...) {
				for _, a := range s.Attributes {
					if rt.Lookup(s.ID, a.Name, "") != a {
						t.Fatalf("Lookup(%q, %q) does not find it", s.ID, a.Name)
					}
					for _, sub := range a.SubAttributes {
						if rt.Lookup(s.ID, a.Name, sub.Name) != sub {
							t.Fatalf("Lookup(%q, %q, %q) does not find it", s.ID, a.Name, sub.Name)
						}
						if file, _ := sub.Location(); file != s.File {
							t.Fatalf("%s.%s: located in %q", a.Name, sub.Name, file)
						}
					}
					_ = a.Characteristics()
				}
			}
		}
	})
}
