package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Problem is one thing wrong with a schema document: the file, the JSON path
// inside it (e.g. "$.attributes[3].type") and what is wrong.
type Problem struct {
	File string
	Path string
	Msg  string
}

func (p *Problem) Error() string {
	if p.Path == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Path + ": " + p.Msg
}

// Problems is every problem found in a load; Load reports them all at once so
// that one run of the generator shows everything to fix.
type Problems []*Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// attrName is the ATTRNAME rule of RFC 7643 §2.1, plus "$ref" (§2.3.7).
var attrName = regexp.MustCompile(`^(\$ref|[A-Za-z][A-Za-z0-9_-]*)$`)

var (
	validTypes      = []string{"string", "boolean", "decimal", "integer", "dateTime", "reference", "binary", "complex"}
	validMutability = []string{"readOnly", "readWrite", "immutable", "writeOnly"}
	validReturned   = []string{"always", "never", "default", "request"}
	validUniqueness = []string{"none", "server", "global"}
	attributeKeys   = []string{"name", "type", "multiValued", "description", "required", "canonicalValues",
		"caseExact", "mutability", "returned", "uniqueness", "referenceTypes", "subAttributes"}
)

// Load reads every *.json file below root in fsys and classifies each by its
// "schemas" member: Schema, ResourceType or ServiceProviderConfig documents.
// It validates them all and returns Problems listing every error found.
func Load(fsys fs.FS, root string) (*Set, error) {
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	l := &loader{set: &Set{byID: map[string]*Schema{}}}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		l.document(f, raw)
	}
	l.resolve()
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	sort.Slice(l.set.Schemas, func(i, j int) bool { return l.set.Schemas[i].ID < l.set.Schemas[j].ID })
	sort.SliceStable(l.set.ResourceTypes, func(i, j int) bool {
		a, b := rfcOrder(l.set.ResourceTypes[i]), rfcOrder(l.set.ResourceTypes[j])
		if a != b {
			return a < b
		}
		return l.set.ResourceTypes[i].Name < l.set.ResourceTypes[j].Name
	})
	return l.set, nil
}

type loader struct {
	set      *Set
	problems Problems
}

func (l *loader) fail(file, path, format string, args ...any) {
	l.problems = append(l.problems, &Problem{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// node is a decoded JSON value with the path and file it came from, so every
// check can say exactly where it failed.
type node struct {
	l    *loader
	file string
	path string
	v    any
}

func (n node) obj() (map[string]any, bool) {
	m, ok := n.v.(map[string]any)
	if !ok {
		n.l.fail(n.file, n.path, "must be a JSON object, not %s", kind(n.v))
	}
	return m, ok
}

func (n node) child(key string) node {
	m, _ := n.v.(map[string]any)
	return node{n.l, n.file, n.path + "." + key, m[key]}
}

func (n node) str(key string, required bool) string {
	c := n.child(key)
	if c.v == nil {
		if required {
			n.l.fail(n.file, c.path, "is required")
		}
		return ""
	}
	s, ok := c.v.(string)
	if !ok {
		n.l.fail(n.file, c.path, "must be a string, not %s", kind(c.v))
	}
	return s
}

func (n node) boolean(key string) bool {
	c := n.child(key)
	if c.v == nil {
		return false
	}
	b, ok := c.v.(bool)
	if !ok {
		n.l.fail(n.file, c.path, "must be true or false, not %s", kind(c.v))
	}
	return b
}

func (n node) strings(key string) []string {
	c := n.child(key)
	if c.v == nil {
		return nil
	}
	arr, ok := c.v.([]any)
	if !ok {
		n.l.fail(n.file, c.path, "must be an array of strings, not %s", kind(c.v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			n.l.fail(n.file, fmt.Sprintf("%s[%d]", c.path, i), "must be a string, not %s", kind(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

// enum reads an optional string characteristic that must be one of valid.
func (n node) enum(key string, valid []string, def string) string {
	c := n.child(key)
	if c.v == nil {
		return def
	}
	s, _ := c.v.(string)
	if !slices.Contains(valid, s) {
		hint := ""
		for _, v := range valid {
			if strings.EqualFold(v, s) {
				hint = fmt.Sprintf(" (did you mean %q? values are case-sensitive)", v)
			}
		}
		n.l.fail(n.file, c.path, "%s is not a valid %s; want one of %s%s", quote(c.v), key, strings.Join(valid, ", "), hint)
		return def
	}
	return s
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return kind(v)
}

func (l *loader) document(file string, raw []byte) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		l.fail(file, "", "invalid JSON: %s", describeJSONError(raw, err))
		return
	}
	if dec.More() {
		l.fail(file, "", "invalid JSON: more than one value in the file")
		return
	}
	root := node{l, file, "$", v}
	if _, ok := root.obj(); !ok {
		return
	}
	uris := root.strings("schemas")
	switch {
	case slices.Contains(uris, SchemaURN):
		l.schema(root, raw)
	case slices.Contains(uris, ResourceTypeURN):
		l.resourceType(root, raw)
	case slices.Contains(uris, ServiceProviderConfigURN):
		if l.set.ServiceProviderConfig != nil {
			l.fail(file, "$.schemas", "a second ServiceProviderConfig document (the first is %s)", l.set.ServiceProviderFile)
			return
		}
		l.set.ServiceProviderConfig = raw
		l.set.ServiceProviderFile = file
	default:
		l.fail(file, "$.schemas", "must list one of %s, %s or %s", SchemaURN, ResourceTypeURN, ServiceProviderConfigURN)
	}
}

// describeJSONError turns a decoder error into "line L, column C: ...".
func describeJSONError(raw []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line, col := 1, 1
	for _, c := range raw[:min(int(off), len(raw))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d: %s", line, col, err.Error())
}

func (l *loader) schema(root node, raw []byte) {
	s := &Schema{File: root.file, Raw: raw}
	s.ID = root.str("id", true)
	s.Name = root.str("name", false)
	s.Description = root.str("description", false)
	if s.ID != "" && !strings.HasPrefix(strings.ToLower(s.ID), "urn:") {
		l.fail(root.file, "$.id", "schema id %q must be a URN (RFC 7643 §7)", s.ID)
	}
	if prev := l.set.byID[strings.ToLower(s.ID)]; prev != nil && s.ID != "" {
		l.fail(root.file, "$.id", "schema %q is also defined in %s", s.ID, prev.File)
		return
	}
	attrs := root.child("attributes")
	arr, ok := attrs.v.([]any)
	if !ok {
		l.fail(root.file, attrs.path, "must be an array of attribute definitions, not %s", kind(attrs.v))
		return
	}
	s.Attributes = l.attributes(attrs, arr, nil)
	s.index()
	if s.ID != "" {
		l.set.byID[strings.ToLower(s.ID)] = s
		l.set.Schemas = append(l.set.Schemas, s)
	}
}

func (l *loader) attributes(list node, arr []any, parent *Attribute) []*Attribute {
	seen := map[string]string{}
	var out []*Attribute
	for i, e := range arr {
		n := node{l, list.file, fmt.Sprintf("%s[%d]", list.path, i), e}
		a := l.attribute(n, parent)
		if a == nil {
			continue
		}
		key := strings.ToLower(a.Name)
		if prev, dup := seen[key]; dup {
			l.fail(n.file, n.path+".name", "duplicate attribute name %q (names are case-insensitive; also at %s)", a.Name, prev)
			continue
		}
		seen[key] = n.path
		out = append(out, a)
	}
	return out
}

func (l *loader) attribute(n node, parent *Attribute) *Attribute {
	m, ok := n.obj()
	if !ok {
		return nil
	}
	for k := range m {
		if !slices.Contains(attributeKeys, k) {
			l.fail(n.file, n.path+"."+k, "unknown attribute characteristic %q; want one of %s", k, strings.Join(attributeKeys, ", "))
		}
	}
	a := &Attribute{
		Name:            n.str("name", true),
		Type:            Type(n.enum("type", validTypes, "string")),
		MultiValued:     n.boolean("multiValued"),
		Description:     n.str("description", false),
		Required:        n.boolean("required"),
		CanonicalValues: n.strings("canonicalValues"),
		CaseExact:       n.boolean("caseExact"),
		Mutability:      Mutability(n.enum("mutability", validMutability, "readWrite")),
		Returned:        Returned(n.enum("returned", validReturned, "default")),
		Uniqueness:      Uniqueness(n.enum("uniqueness", validUniqueness, "none")),
		ReferenceTypes:  n.strings("referenceTypes"),
	}
	if a.Name != "" && !attrName.MatchString(a.Name) {
		l.fail(n.file, n.path+".name", "%q is not a valid attribute name (RFC 7643 §2.1: a letter, then letters, digits, '-' or '_')", a.Name)
	}
	subs := n.child("subAttributes")
	switch {
	case subs.v != nil && a.Type != Complex:
		l.fail(n.file, subs.path, "subAttributes are only allowed on attributes of type \"complex\" (this one is %q)", a.Type)
	case subs.v == nil && a.Type == Complex:
		l.fail(n.file, n.path, "complex attribute %q has no subAttributes", a.Name)
	case subs.v != nil:
		if parent != nil {
			l.fail(n.file, subs.path, "a sub-attribute cannot have sub-attributes (RFC 7643 §2.3.8: complex attributes do not nest)")
			break
		}
		arr, ok := subs.v.([]any)
		if !ok {
			l.fail(n.file, subs.path, "must be an array, not %s", kind(subs.v))
			break
		}
		a.SubAttributes = l.attributes(subs, arr, a)
	}
	if a.Type == Reference && len(a.ReferenceTypes) == 0 {
		l.fail(n.file, n.path, "reference attribute %q needs referenceTypes (RFC 7643 §7), e.g. [\"external\"] or [\"uri\"]", a.Name)
	}
	if len(a.ReferenceTypes) > 0 && a.Type != Reference {
		l.fail(n.file, n.path+".referenceTypes", "referenceTypes only apply to attributes of type \"reference\"")
	}
	if a.Type == Complex && a.Uniqueness != UniqueNone {
		l.fail(n.file, n.path+".uniqueness", "uniqueness is not supported on complex attributes")
	}
	if a.Uniqueness != UniqueNone && (a.MultiValued || parent != nil) {
		l.fail(n.file, n.path+".uniqueness", "uniqueness %q is only supported on single-valued top-level attributes", a.Uniqueness)
	}
	return a
}

func (l *loader) resourceType(root node, raw []byte) {
	rt := &ResourceType{File: root.file, Raw: raw}
	rt.ID = root.str("id", false)
	rt.Name = root.str("name", true)
	rt.Description = root.str("description", false)
	rt.Endpoint = root.str("endpoint", true)
	rt.Schema = root.str("schema", true)
	if rt.Endpoint != "" && !regexp.MustCompile(`^/[A-Za-z][A-Za-z0-9]*$`).MatchString(rt.Endpoint) {
		l.fail(root.file, "$.endpoint", "endpoint %q must be \"/\" followed by letters and digits, e.g. \"/Users\"", rt.Endpoint)
	}
	if rt.Name != "" && !regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`).MatchString(rt.Name) {
		l.fail(root.file, "$.name", "resource type name %q must be letters and digits", rt.Name)
	}
	exts := root.child("schemaExtensions")
	if exts.v != nil {
		arr, ok := exts.v.([]any)
		if !ok {
			l.fail(root.file, exts.path, "must be an array, not %s", kind(exts.v))
		}
		for i, e := range arr {
			n := node{l, root.file, fmt.Sprintf("%s[%d]", exts.path, i), e}
			if _, ok := n.obj(); !ok {
				continue
			}
			rt.SchemaExtensions = append(rt.SchemaExtensions, SchemaExtension{
				Schema: n.str("schema", true), Required: n.boolean("required"),
			})
		}
	}
	for _, other := range l.set.ResourceTypes {
		if strings.EqualFold(other.Name, rt.Name) {
			l.fail(root.file, "$.name", "resource type %q is also defined in %s", rt.Name, other.File)
			return
		}
		if strings.EqualFold(other.Endpoint, rt.Endpoint) {
			l.fail(root.file, "$.endpoint", "endpoint %q is also used by %s", rt.Endpoint, other.File)
			return
		}
	}
	l.set.ResourceTypes = append(l.set.ResourceTypes, rt)
}

// resolve links resource types to their schemas once every file is read, so
// file order does not matter.
func (l *loader) resolve() {
	for _, rt := range l.set.ResourceTypes {
		rt.Core = l.set.Schema(rt.Schema)
		if rt.Core == nil && rt.Schema != "" {
			l.fail(rt.File, "$.schema", "schema %q is not defined by any file (known: %s)", rt.Schema, l.knownIDs())
		}
		if rt.Core != nil {
			for i, a := range rt.Core.Attributes {
				if Common(a.Name) != nil {
					l.fail(rt.Core.File, fmt.Sprintf("$.attributes[%d].name", i), "%q is a common attribute (RFC 7643 §3.1) that every resource has; remove it from the base schema", a.Name)
				}
			}
		}
		for i, ext := range rt.SchemaExtensions {
			s := l.set.Schema(ext.Schema)
			if s == nil {
				l.fail(rt.File, fmt.Sprintf("$.schemaExtensions[%d].schema", i), "schema %q is not defined by any file (known: %s)", ext.Schema, l.knownIDs())
				continue
			}
			if rt.Core != nil && s == rt.Core {
				l.fail(rt.File, fmt.Sprintf("$.schemaExtensions[%d].schema", i), "the base schema cannot also be an extension")
				continue
			}
			rt.Extensions = append(rt.Extensions, s)
		}
	}
	if l.set.ServiceProviderConfig == nil && len(l.set.ResourceTypes) > 0 {
		l.fail(path.Dir(l.set.ResourceTypes[0].File), "", "no ServiceProviderConfig document (RFC 7643 §5) was found")
	}
}

func (l *loader) knownIDs() string {
	var ids []string
	for _, s := range l.set.Schemas {
		ids = append(ids, s.ID)
	}
	return strings.Join(ids, ", ")
}

// rfcOrder puts the resource types of RFC 7643 first, in the RFC's own
// order (§8.6: User, then Group), and the others after them by name.
// Clients read /ResourceTypes in order: Microsoft's SCIM test collection
// expects the User resource type first.
func rfcOrder(rt *ResourceType) int {
	switch rt.Schema {
	case "urn:ietf:params:scim:schemas:core:2.0:User":
		return 0
	case "urn:ietf:params:scim:schemas:core:2.0:Group":
		return 1
	}
	return 2
}
