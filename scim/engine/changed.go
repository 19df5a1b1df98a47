package engine

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// changedPaths lists, sorted, the attribute paths whose values differ
// between two stored documents (nil old: a create, every attribute
// present). A singular complex attribute is reported by sub-attribute
// ("name.givenName"), an extension's attributes under their schema URN
// ("urn:…:enterprise:2.0:User:manager.value"), a multi-valued attribute as
// a whole ("emails"). It is what the change feed and After hooks report, so
// an application can tell a deactivation ("active") from any other update.
func changedPaths(oldDoc, newDoc []byte) ([]string, error) {
	var o, n map[string]any
	if len(oldDoc) > 0 {
		if err := json.Unmarshal(oldDoc, &o); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(newDoc, &n); err != nil {
		return nil, err
	}
	var out []string
	diffAttrs("", o, n, true, &out)
	sort.Strings(out)
	return out, nil
}

// diffAttrs compares the attributes of two objects. top is the level where
// extension URN keys may appear.
func diffAttrs(prefix string, o, n map[string]any, top bool, out *[]string) {
	seen := make(map[string]bool, len(n))
	visit := func(k string) {
		if seen[k] || (top && k == "schemas") {
			return
		}
		seen[k] = true
		ov, nv := o[k], n[k]
		if reflect.DeepEqual(ov, nv) {
			return
		}
		om, oIsMap := ov.(map[string]any)
		nm, nIsMap := nv.(map[string]any)
		objects := (oIsMap || ov == nil) && (nIsMap || nv == nil) // not both nil: they differ
		switch {
		case objects && top && strings.HasPrefix(strings.ToLower(k), "urn:"):
			diffAttrs(k+":", om, nm, false, out) // an extension's attributes
		case objects:
			diffLeaves(prefix+k+".", om, nm, out) // a singular complex attribute
		default:
			*out = append(*out, prefix+k)
		}
	}
	for k := range o {
		visit(k)
	}
	for k := range n {
		visit(k)
	}
}

// diffLeaves reports the differing sub-attributes of a complex attribute.
func diffLeaves(prefix string, o, n map[string]any, out *[]string) {
	for k, ov := range o {
		if nv, ok := n[k]; !ok || !reflect.DeepEqual(ov, nv) {
			*out = append(*out, prefix+k)
		}
	}
	for k := range n {
		if _, ok := o[k]; !ok {
			*out = append(*out, prefix+k)
		}
	}
}
