package model

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scimforge/scimforge/scim/schema"
)

// Sidecar is schemas/codegen.yaml: generator-only annotations that must not
// live in the RFC 7643 JSON (which /Schemas serves verbatim). Map keys are
// spelled as in the file.
type Sidecar struct {
	ResourceTypes map[string]SidecarResourceType
	Membership    *SidecarMembership
	Schemas       map[string]SidecarSchema
	// OpenAPI describes the API in openapi.yaml (openapi.go); nil when absent.
	OpenAPI *OpenAPI
}

// SidecarResourceType is resourceTypes.<name>.
type SidecarResourceType struct {
	GoName string
	Table  string
	// Indexes are attribute paths in file order; an entry that is not a
	// string (already reported) is "", so positions match the file's.
	Indexes []string
}

// SidecarMembership is membership.
type SidecarMembership struct {
	Group string
	Table string
}

// SidecarSchema is schemas.<urn>.
type SidecarSchema struct {
	GoName       string
	ColumnPrefix string
}

// sidecarParser walks the YAML node tree rather than decoding into structs,
// so that it can report every problem (not the first) with a JSON Pointer.
type sidecarParser struct {
	file     string
	problems schema.Problems
}

func (p *sidecarParser) fail(ptr, fix, format string, args ...any) {
	p.problems = append(p.problems, &schema.Problem{File: p.file, Pointer: ptr, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

func parseSidecar(file string, raw []byte) (*Sidecar, schema.Problems) {
	p := &sidecarParser{file: file}
	side := &Sidecar{ResourceTypes: map[string]SidecarResourceType{}, Schemas: map[string]SidecarSchema{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		p.fail("", "", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return side, p.problems
	}
	if len(doc.Content) == 0 {
		return side, nil // an empty file: no annotations
	}
	p.mapping(doc.Content[0], "", []string{"resourceTypes", "membership", "schemas", "openapi"}, func(key string, v *yaml.Node, ptr string) {
		switch key {
		case "openapi":
			side.OpenAPI = p.openAPI(v, ptr)
		case "resourceTypes":
			p.mapping(v, ptr, nil, func(name string, v *yaml.Node, ptr string) {
				var rt SidecarResourceType
				p.mapping(v, ptr, []string{"goName", "table", "indexes"}, func(key string, v *yaml.Node, ptr string) {
					switch key {
					case "goName":
						rt.GoName = p.scalar(v, ptr)
					case "table":
						rt.Table = p.scalar(v, ptr)
					case "indexes":
						p.sequence(v, ptr, func(i int, v *yaml.Node, ptr string) {
							rt.Indexes = append(rt.Indexes, p.scalar(v, ptr))
						})
					}
				})
				side.ResourceTypes[name] = rt
			})
		case "membership":
			if n := deref(v); n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return // "membership:" with nothing under it: none
			}
			ms := &SidecarMembership{}
			if p.mapping(v, ptr, []string{"group", "table"}, func(key string, v *yaml.Node, ptr string) {
				switch key {
				case "group":
					ms.Group = p.scalar(v, ptr)
				case "table":
					ms.Table = p.scalar(v, ptr)
				}
			}) {
				if ms.Group == "" {
					p.fail(ptr+schema.Pointer("group"), "add group: <the resource type whose members attribute is stored>, or remove membership", "group is required")
				}
				side.Membership = ms
			}
		case "schemas":
			p.mapping(v, ptr, nil, func(urn string, v *yaml.Node, ptr string) {
				var sc SidecarSchema
				p.mapping(v, ptr, []string{"goName", "columnPrefix"}, func(key string, v *yaml.Node, ptr string) {
					switch key {
					case "goName":
						sc.GoName = p.scalar(v, ptr)
					case "columnPrefix":
						sc.ColumnPrefix = p.scalar(v, ptr)
					}
				})
				side.Schemas[urn] = sc
			})
		}
	})
	return side, p.problems
}

func deref(n *yaml.Node) *yaml.Node {
	// The YAML parser rejects an alias to an alias and recursive anchors,
	// so this ends; the bound is only a guard.
	for i := 0; i < 100 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// mapping calls fn for each key of a mapping node, in file order, reporting
// keys that are not in known (any key when known is nil), repeated keys and
// a node that is not a mapping (empty counts as an empty mapping). It
// reports whether n was a mapping.
func (p *sidecarParser) mapping(n *yaml.Node, ptr string, known []string, fn func(key string, v *yaml.Node, ptr string)) bool {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return true
	}
	if n.Kind != yaml.MappingNode {
		p.fail(ptr, "", "must be a mapping (key: value lines), not %s", describe(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(ptr, "", "a key is %s, not a name (line %d)", describe(k), k.Line)
			continue
		}
		kp := ptr + schema.Pointer(k.Value)
		if seen[k.Value] {
			p.fail(kp, "remove one of them", "%q is given twice (again on line %d)", k.Value, k.Line)
			continue
		}
		seen[k.Value] = true
		if known != nil && !slices.Contains(known, k.Value) {
			p.fail(kp, "remove it; the keys here are "+strings.Join(known, ", "), "unknown key %q", k.Value)
			continue
		}
		fn(k.Value, v, kp)
	}
	return true
}

func (p *sidecarParser) sequence(n *yaml.Node, ptr string, fn func(i int, v *yaml.Node, ptr string)) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(ptr, "write one \"- item\" line per entry", "must be a list, not %s", describe(n))
		return
	}
	for i, v := range n.Content {
		fn(i, v, ptr+schema.Pointer(i))
	}
}

func (p *sidecarParser) scalar(n *yaml.Node, ptr string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		p.fail(ptr, "", "must be a name, not %s", describe(n))
		return ""
	}
	return n.Value
}
