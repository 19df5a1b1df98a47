package engine

import (
	"slices"
	"testing"
)

func TestChangedPaths(t *testing.T) {
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	for _, c := range []struct {
		name     string
		old, new string
		want     []string
	}{
		{"create", ``, `{"schemas":["x"],"userName":"a","name":{"givenName":"A"},"emails":[{"value":"a@x"}]}`, []string{"emails", "name.givenName", "userName"}},
		{"nothing", `{"userName":"a","active":true}`, `{"active":true,"userName":"a"}`, nil},
		{"deactivate", `{"userName":"a"}`, `{"userName":"a","active":false}`, []string{"active"}},
		{"sub-attribute", `{"name":{"givenName":"A","familyName":"B"}}`, `{"name":{"givenName":"A","familyName":"C"}}`, []string{"name.familyName"}},
		{"complex removed", `{"name":{"givenName":"A"}}`, `{}`, []string{"name.givenName"}},
		{"multi-valued whole", `{"emails":[{"value":"a"}]}`, `{"emails":[{"value":"a"},{"value":"b"}]}`, []string{"emails"}},
		{"extension", `{"` + ent + `":{"department":"x","manager":{"value":"1"}}}`, `{"` + ent + `":{"department":"y","manager":{"value":"2"}}}`, []string{ent + ":department", ent + ":manager.value"}},
		{"extension added", `{}`, `{"` + ent + `":{"employeeNumber":"7"}}`, []string{ent + ":employeeNumber"}},
		{"schemas alone are no attribute", `{"schemas":["a"]}`, `{"schemas":["a","b"]}`, nil},
	} {
		var old []byte
		if c.old != "" {
			old = []byte(c.old)
		}
		got, err := changedPaths(old, []byte(c.new))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
