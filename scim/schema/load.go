package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// attrName is ATTRNAME of RFC 7643 §2.1: ALPHA *(nameChar), with
// nameChar = "-" / "_" / DIGIT / ALPHA. "$ref" (RFC 7643 §2.4) is allowed
// as a sub-attribute name only, and checked separately.
var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

const attrNameRule = `RFC 7643 §2.1 ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA`

// The generator turns resource type names and endpoints into Go and SQL
// names, so they are narrower than RFC 7643 requires.
var (
	resourceTypeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	endpointPath     = regexp.MustCompile(`^/[A-Za-z][A-Za-z0-9]*$`)
)

var (
	validTypes      = []string{"string", "boolean", "decimal", "integer", "dateTime", "reference", "binary", "complex"}
	validMutability = []string{"readOnly", "readWrite", "immutable", "writeOnly"}
	validReturned   = []string{"always", "never", "default", "request"}
	validUniqueness = []string{"none", "server", "global"}
	attributeKeys   = []string{"name", "type", "multiValued", "description", "required", "canonicalValues",
		"caseExact", "mutability", "returned", "uniqueness", "referenceTypes", "subAttributes"}
)

// reserved are the top-level names a base (resource) schema cannot define:
// the common attributes of RFC 7643 §3.1, which the server adds to every
// resource itself, and "schemas" (RFC 7643 §3), which lists a resource's
// schema URNs. A base schema redefining one would give a resource two
// attributes of that name.
var reserved = map[string]string{
	"id":         "a common attribute (RFC 7643 §3.1) that the server assigns to every resource",
	"externalid": "a common attribute (RFC 7643 §3.1) that every resource already has",
	"meta":       "a common attribute (RFC 7643 §3.1) that the server maintains for every resource",
	"schemas":    "the attribute that lists a resource's schema URNs (RFC 7643 §3)",
}

// Load reads every *.json file below root in fsys and classifies each by its
// "schemas" member: Schema, ResourceType or ServiceProviderConfig documents.
// It validates them all and returns Problems (sorted) listing every error
// found, or another error when a file cannot be read.
func Load(fsys fs.FS, root string) (*Set, error) {
	set, ps, err := Check(fsys, root)
	if err != nil {
		return nil, err
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return set, nil
}

// Check reads and validates like Load, but returns the set it could build
// even when there are problems, so that a caller checking more files against
// it (the generator checks its sidecar, codegen.yaml) reports every problem
// in one pass. A set returned with problems is incomplete: documents in error
// may be missing or partly read, and a resource type whose schemas are
// missing has a nil Core. err is only for files that cannot be read.
func Check(fsys fs.FS, root string) (*Set, Problems, error) {
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
		return nil, nil, err
	}
	sort.Strings(files)
	l := &loader{root: root, set: &Set{byID: map[string]*Schema{}}}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, nil, err
		}
		l.document(f, raw)
	}
	l.resolve()
	sort.Slice(l.set.Schemas, func(i, j int) bool { return l.set.Schemas[i].ID < l.set.Schemas[j].ID })
	sort.SliceStable(l.set.ResourceTypes, func(i, j int) bool {
		a, b := rfcOrder(l.set.ResourceTypes[i]), rfcOrder(l.set.ResourceTypes[j])
		if a != b {
			return a < b
		}
		return l.set.ResourceTypes[i].Name < l.set.ResourceTypes[j].Name
	})
	return l.set, l.problems.Sorted(), nil
}

type loader struct {
	root string
	set  *Set
	// rts is every resource type document read, including those that
	// duplicate another's name, id or endpoint (which are left out of set),
	// so that their other problems are reported too.
	rts      []*ResourceType
	problems Problems
}

func (l *loader) fail(file, ptr, fix, format string, args ...any) {
	l.problems = append(l.problems, &Problem{File: file, Pointer: ptr, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

// node is a decoded JSON value with the file it came from and its JSON
// Pointer, so every check can say exactly where it failed.
type node struct {
	l    *loader
	file string
	ptr  string
	v    any
}

func (n node) fail(fix, format string, args ...any) { n.l.fail(n.file, n.ptr, fix, format, args...) }

func (n node) obj() (map[string]any, bool) {
	m, ok := n.v.(map[string]any)
	if !ok {
		n.fail("", "must be a JSON object, not %s", kind(n.v))
	}
	return m, ok
}

// child is the member key of an object (a nil value when n is no object or
// has no such member; JSON null counts as missing).
func (n node) child(key string) node {
	m, _ := n.v.(map[string]any)
	return node{n.l, n.file, n.ptr + Pointer(key), m[key]}
}

func (n node) elem(i int, v any) node { return node{n.l, n.file, n.ptr + Pointer(i), v} }

func (n node) str(key string, required bool) string {
	c := n.child(key)
	if c.v == nil {
		if required {
			c.fail(fmt.Sprintf("add %q", key), "%s is required", key)
		}
		return ""
	}
	s, ok := c.v.(string)
	if !ok {
		c.fail("", "must be a string, not %s", kind(c.v))
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
		c.fail("write true or false, without quotes", "must be true or false, not %s", kind(c.v))
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
		c.fail("", "must be an array of strings, not %s", kind(c.v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			c.elem(i, e).fail("", "must be a string, not %s", kind(e))
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
		fix := "use one of " + strings.Join(valid, ", ")
		if m := suggest(s, valid); m != "" {
			fix = fmt.Sprintf("did you mean %q? %s", m, fix)
			if strings.EqualFold(m, s) {
				fix = fmt.Sprintf("did you mean %q? values are case-sensitive", m)
			}
		}
		c.fail(fix, "%s is not a valid %s", quote(c.v), key)
		return def
	}
	return s
}

// suggest returns the entry of valid that s most likely misspells: the same
// but for case, or one edit away (two for long words), counting a swap of
// neighbours as one edit; "" when none is close.
func suggest(s string, valid []string) string {
	limit := 1
	if len(s) >= 8 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, v := range valid {
		if strings.EqualFold(v, s) {
			return v
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(v)); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance (Levenshtein plus
// transpositions), for suggestions; it gives up (returns a large number)
// for long strings, which are never typos of a keyword.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
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
		l.fail(file, "", "", "invalid JSON: %s", describeJSONError(raw, err))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		l.fail(file, "", "", "invalid JSON: more than one value in the file")
		return
	}
	root := node{l, file, "", v}
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
			l.fail(file, "/schemas", "keep one ServiceProviderConfig document", "a second ServiceProviderConfig document (the first is %s)", l.set.ServiceProviderFile)
			return
		}
		l.set.ServiceProviderConfig = raw
		l.set.ServiceProviderFile = file
	default:
		l.fail(file, "/schemas", fmt.Sprintf("list %q in a schema, %q in a resource type, or %q", SchemaURN, ResourceTypeURN, ServiceProviderConfigURN),
			"the document is not a Schema, ResourceType or ServiceProviderConfig resource")
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
		root.child("id").fail(`use a URN, e.g. "urn:example:params:scim:schemas:extension:acme:2.0:User"`,
			"schema id %q is not a URN (RFC 7643 §7: a schema's id is its URI)", s.ID)
	}
	prev := l.set.byID[strings.ToLower(s.ID)]
	if prev != nil {
		root.child("id").fail("give each schema its own id (ids compare case-insensitively)", "schema id %q is also defined in %s", s.ID, prev.File)
	}
	attrs := root.child("attributes")
	arr, ok := attrs.v.([]any)
	if !ok {
		fix := ""
		if attrs.v == nil {
			fix = `add "attributes": [ ... ] (an empty array for a schema without attributes)`
		}
		attrs.fail(fix, "must be an array of attribute definitions, not %s", kind(attrs.v))
		return
	}
	// A duplicate's attributes are checked too (every problem at once),
	// but only the first schema of an id is kept.
	s.Attributes = l.attributes(attrs, arr, nil)
	s.index()
	if s.ID != "" && prev == nil {
		l.set.byID[strings.ToLower(s.ID)] = s
		l.set.Schemas = append(l.set.Schemas, s)
	}
}

func (l *loader) attributes(list node, arr []any, parent *Attribute) []*Attribute {
	seen := map[string]string{}
	var out []*Attribute
	for i, e := range arr {
		n := list.elem(i, e)
		a := l.attribute(n, parent)
		if a == nil {
			continue
		}
		if a.Name == "" {
			// Missing or not a string: already reported. Keeping it would
			// give the set an attribute nothing can name.
			continue
		}
		key := strings.ToLower(a.Name)
		if prev, dup := seen[key]; dup {
			n.child("name").fail("rename or remove one of them",
				"duplicate attribute name %q: %s already defines it, and attribute names are case-insensitive (RFC 7643 §2.1)", a.Name, prev)
			continue
		}
		seen[key] = n.ptr
		out = append(out, a)
	}
	return out
}

func (l *loader) attribute(n node, parent *Attribute) *Attribute {
	m, ok := n.obj()
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(attributeKeys, k) {
			fix := "remove it (generator settings go in codegen.yaml); an attribute's characteristics are " + strings.Join(attributeKeys, ", ")
			if s := suggest(k, attributeKeys); s != "" {
				fix = fmt.Sprintf("did you mean %q? characteristics are case-sensitive", s)
			}
			n.child(k).fail(fix, "unknown attribute characteristic %q", k)
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
		ptr:             n.ptr,
	}
	l.checkName(n, a, parent)
	l.checkSubAttributes(n, a, parent)
	l.checkCharacteristics(n, a, parent)
	return a
}

func (l *loader) checkName(n node, a *Attribute, parent *Attribute) {
	if _, ok := n.child("name").v.(string); !ok {
		return // missing or not a string: reported by str
	}
	c := n.child("name")
	switch {
	case a.Name == "$ref" && parent == nil:
		c.fail(`use "$ref" only inside a complex attribute's subAttributes`,
			`attribute name "$ref" is only valid for a sub-attribute (RFC 7643 §2.4)`)
	case a.Name == "$ref":
		if a.Type != Reference {
			n.child("type").fail(`set "type": "reference" and its referenceTypes`,
				`sub-attribute "$ref" is of type %q; RFC 7643 §2.4 makes "$ref" the reference URI of a resource`, a.Type)
		}
	case !attrName.MatchString(a.Name):
		fix := "start with a letter; use only letters, digits, '-', '_'"
		if s := nameSuggestion(a.Name); s != "" {
			fix += fmt.Sprintf(", e.g. %q", s)
		}
		c.fail(fix, "attribute name %q is invalid: %s", a.Name, attrNameRule)
	}
}

// nameSuggestion turns "cost center" or "cost.center" into "costCenter";
// "" when the name does not start with a letter (nothing to guess from).
func nameSuggestion(name string) string {
	if name == "" || !isLetter(name[0]) {
		return ""
	}
	var b strings.Builder
	upper := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case isLetter(c) || c >= '0' && c <= '9' || c == '-' || c == '_':
			if upper && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			upper = false
		default:
			upper = true
		}
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (l *loader) checkSubAttributes(n node, a *Attribute, parent *Attribute) {
	subs := n.child("subAttributes")
	arr, isArr := subs.v.([]any)
	switch {
	case a.Type == Complex && parent != nil:
		// RFC 7643 §2.3.8: "A complex attribute MUST NOT contain
		// sub-attributes that have sub-attributes (i.e., that are complex)."
		n.child("type").fail(fmt.Sprintf("make %q a simple type, or a top-level complex attribute of its own", a.Name),
			"sub-attribute %q of complex attribute %q is itself complex: RFC 7643 §2.3.8 forbids nesting complex attributes", a.Name, parent.Name)
	case a.Type != Complex:
		if subs.v != nil {
			subs.fail(`set "type": "complex", or remove subAttributes`,
				"subAttributes are only allowed on attributes of type \"complex\" (%q is %q)", a.Name, a.Type)
		}
	case subs.v == nil:
		subs.fail("add subAttributes, or give the attribute a simple type",
			"complex attribute %q has no subAttributes", a.Name)
	case !isArr:
		subs.fail("", "must be an array of attribute definitions, not %s", kind(subs.v))
	case len(arr) == 0:
		subs.fail("add at least one sub-attribute, or give the attribute a simple type",
			"complex attribute %q has an empty subAttributes array", a.Name)
	default:
		a.SubAttributes = l.attributes(subs, arr, a)
	}
}

// checkCharacteristics reports characteristics that do not apply to the
// attribute's type, and combinations that contradict each other or that the
// server cannot honour. Each rule says why it is a conflict.
func (l *loader) checkCharacteristics(n node, a *Attribute, parent *Attribute) {
	if rts, _ := n.child("referenceTypes").v.([]any); a.Type == Reference && len(rts) == 0 {
		n.child("referenceTypes").fail(`add e.g. "referenceTypes": ["external"] for any URL, ["uri"], or resource type names such as ["User"]`,
			"reference attribute %q needs referenceTypes (RFC 7643 §7)", a.Name)
	}
	if n.child("referenceTypes").v != nil && a.Type != Reference {
		n.child("referenceTypes").fail(`remove referenceTypes, or set "type": "reference"`,
			"referenceTypes only apply to attributes of type \"reference\" (%q is %q)", a.Name, a.Type)
	}
	if cv := n.child("canonicalValues"); cv.v != nil {
		if a.Type != String {
			// The server matches canonical values as strings, in any case;
			// RFC 7643 §7 describes them for string values ("work", "home").
			cv.fail(`remove canonicalValues, or set "type": "string"`,
				"canonicalValues only apply to attributes of type \"string\" (%q is %q)", a.Name, a.Type)
		}
		seen := map[string]int{}
		for i, v := range a.CanonicalValues {
			if j, dup := seen[strings.ToLower(v)]; dup {
				cv.elem(i, v).fail("remove it", "canonical value %q is listed twice (also at index %d; values compare case-insensitively)", v, j)
				continue
			}
			seen[strings.ToLower(v)] = i
		}
	}
	if a.CaseExact {
		// RFC 7643 §2.2: caseExact is about string comparison; references
		// and binary values are compared as strings too (§2.3.6, §2.3.7).
		switch a.Type {
		case String, Reference, Binary:
		default:
			n.child("caseExact").fail(`set "caseExact": false`,
				"caseExact is true, but %q values (%q) have no letter case", a.Type, a.Name)
		}
	}
	if a.Required && a.Mutability == ReadOnly {
		// RFC 7643 §2.2: a client cannot set a readOnly attribute, and
		// scimforge assigns values only to the common attributes (id, meta),
		// so no request could ever satisfy "required". (The RFC's own
		// readOnly + required attributes are the server's: id, and the
		// discovery documents' members.)
		n.child("required").fail(`set "required": false, or make the attribute "readWrite" or "immutable" if clients provide it`,
			"attribute %q is readOnly and required: clients cannot send it and the server never sets it", a.Name)
	}
	if a.Mutability == WriteOnly && a.Returned != ReturnedNever {
		// RFC 7643 §2.2, writeOnly: "Attribute values SHALL NOT be returned".
		n.child("returned").fail(`set "returned": "never"`,
			"attribute %q is writeOnly, so it is never returned (RFC 7643 §2.2), but returned is %q", a.Name, a.Returned)
	}
	if a.Mutability == ReadOnly && a.Returned == ReturnedNever {
		// Nothing could write the value and nothing could read it back.
		n.child("returned").fail(`set "returned": "default", or let clients write it ("readWrite", "immutable" or "writeOnly")`,
			"attribute %q is readOnly and returned never: no client can write or read it", a.Name)
	}
	if a.Uniqueness != UniqueNone {
		u := n.child("uniqueness")
		switch {
		case a.Type == Complex:
			u.fail(`set "uniqueness": "none" (a sub-attribute can be unique only as a top-level attribute)`,
				"uniqueness is not supported on complex attributes")
		case a.Type == Boolean:
			u.fail(`set "uniqueness": "none"`,
				"uniqueness %q on boolean %q would allow at most two resources", a.Uniqueness, a.Name)
		case a.MultiValued || parent != nil:
			u.fail(`set "uniqueness": "none"`,
				"uniqueness %q is only supported on single-valued top-level attributes", a.Uniqueness)
		case a.Mutability == WriteOnly && a.Returned == ReturnedNever:
			// Such values (passwords) are stored as salted one-way hashes,
			// which cannot be compared.
			u.fail(`set "uniqueness": "none"`,
				"uniqueness %q on writeOnly, returned never %q: such values are stored as salted hashes, which cannot be compared", a.Uniqueness, a.Name)
		}
	}
}

func (l *loader) resourceType(root node, raw []byte) {
	rt := &ResourceType{File: root.file, Raw: raw}
	rt.ID = root.str("id", false)
	rt.Name = root.str("name", true)
	rt.Description = root.str("description", false)
	rt.Endpoint = root.str("endpoint", true)
	rt.Schema = root.str("schema", true)
	if rt.Endpoint != "" && !endpointPath.MatchString(rt.Endpoint) {
		root.child("endpoint").fail(`use "/" and a name of letters and digits, e.g. "/Devices"`,
			"endpoint %q is not \"/\" followed by letters and digits", rt.Endpoint)
	}
	if rt.Name != "" && !resourceTypeName.MatchString(rt.Name) {
		root.child("name").fail(`use a letter, then letters and digits, e.g. "Device" (it names Go types and SQL tables)`,
			"resource type name %q is invalid", rt.Name)
	}
	exts := root.child("schemaExtensions")
	if exts.v != nil {
		arr, ok := exts.v.([]any)
		if !ok {
			exts.fail("", "must be an array of {\"schema\": URN, \"required\": bool} objects, not %s", kind(exts.v))
		}
		seen := map[string]int{}
		for i, e := range arr {
			n := exts.elem(i, e)
			if _, ok := n.obj(); !ok {
				continue
			}
			ext := SchemaExtension{Schema: n.str("schema", true), Required: n.boolean("required")}
			if ext.Schema == "" {
				continue
			}
			if j, dup := seen[strings.ToLower(ext.Schema)]; dup {
				n.child("schema").fail("remove one of them", "extension %q is listed twice (also at %s)", ext.Schema, exts.ptr+Pointer(j, "schema"))
				continue
			}
			seen[strings.ToLower(ext.Schema)] = i
			rt.SchemaExtensions = append(rt.SchemaExtensions, ext)
			rt.extIndex = append(rt.extIndex, i)
		}
	}
	dup := false
	for _, other := range l.rts {
		if rt.Name != "" && strings.EqualFold(other.Name, rt.Name) {
			root.child("name").fail("give each resource type its own name", "resource type name %q is also used by %s", rt.Name, other.File)
			dup = true
		}
		if rt.ID != "" && strings.EqualFold(other.ID, rt.ID) {
			root.child("id").fail("give each resource type its own id", "resource type id %q is also used by %s", rt.ID, other.File)
			dup = true
		}
		if rt.Endpoint != "" && strings.EqualFold(other.Endpoint, rt.Endpoint) {
			root.child("endpoint").fail("give each resource type its own endpoint", "endpoint %q is also used by %s", rt.Endpoint, other.File)
			dup = true
		}
	}
	l.rts = append(l.rts, rt)
	if !dup {
		l.set.ResourceTypes = append(l.set.ResourceTypes, rt)
	}
}

// resolve links resource types to their schemas once every file is read, so
// file order does not matter, and runs the checks that need the whole set.
func (l *loader) resolve() {
	coreOf := map[*Schema]*ResourceType{}
	for _, rt := range l.rts {
		rt.Core = l.set.Schema(rt.Schema)
		if rt.Core == nil && rt.Schema != "" {
			l.fail(rt.File, "/schema", l.knownIDs(rt.Schema), "schema %q is not defined by any file", rt.Schema)
		}
		if rt.Core != nil && coreOf[rt.Core] == nil {
			coreOf[rt.Core] = rt
		}
	}
	used := map[*Schema]bool{}
	for core := range coreOf {
		used[core] = true
		for _, a := range core.Attributes {
			if why, ok := reserved[strings.ToLower(a.Name)]; ok {
				l.fail(core.File, a.ptr+"/name", "remove it (the server adds id, externalId and meta to every resource itself), or rename it",
					"a resource's base schema cannot define %q: it is %s", a.Name, why)
			}
		}
	}
	for _, rt := range l.rts {
		declared, index := rt.SchemaExtensions, rt.extIndex
		rt.SchemaExtensions, rt.extIndex = nil, nil
		for i, ext := range declared {
			ptr := Pointer("schemaExtensions", index[i], "schema")
			s := l.set.Schema(ext.Schema)
			switch {
			case s == nil:
				l.fail(rt.File, ptr, l.knownIDs(ext.Schema), "schema %q is not defined by any file", ext.Schema)
			case rt.Core != nil && s == rt.Core:
				l.fail(rt.File, ptr, "remove it from schemaExtensions", "%q is this resource type's base schema; it cannot also be an extension", ext.Schema)
			case coreOf[s] != nil:
				l.fail(rt.File, ptr, "define the extension as a schema of its own, with its own id",
					"%q is the base schema of resource type %q (%s); it cannot also be an extension", ext.Schema, coreOf[s].Name, coreOf[s].File)
			default:
				// Extensions parallels SchemaExtensions, so only resolved
				// extensions stay (the set is complete only without problems).
				rt.SchemaExtensions = append(rt.SchemaExtensions, ext)
				rt.extIndex = append(rt.extIndex, index[i])
				rt.Extensions = append(rt.Extensions, s)
				used[s] = true
			}
		}
	}
	l.checkReferenceTypes(used)
	if l.set.ServiceProviderConfig == nil && len(l.rts) > 0 {
		l.fail(l.root, "", fmt.Sprintf(`add ServiceProviderConfig.json with "schemas": [%q]`, ServiceProviderConfigURN),
			"no ServiceProviderConfig document (RFC 7643 §5) was found")
	}
}

// checkReferenceTypes checks that the referenceTypes of every schema a
// resource type uses name "uri", "external" or a resource type of the set
// (RFC 7643 §7); a misspelt name would make the server treat the reference
// as pointing nowhere.
func (l *loader) checkReferenceTypes(used map[*Schema]bool) {
	var names []string
	for _, rt := range l.set.ResourceTypes {
		names = append(names, rt.Name)
	}
	check := func(s *Schema, a *Attribute) {
		for i, t := range a.ReferenceTypes {
			if t == "uri" || t == "external" || slices.Contains(names, t) {
				continue
			}
			fix := fmt.Sprintf("use \"uri\", \"external\" or a resource type name (%s)", strings.Join(names, ", "))
			if m := suggest(t, append([]string{"uri", "external"}, names...)); m != "" {
				fix = fmt.Sprintf("did you mean %q? %s", m, fix)
			}
			l.fail(s.File, a.ptr+Pointer("referenceTypes", i), fix,
				"referenceTypes of %q names %q, which is neither \"uri\", \"external\" nor a resource type defined here", a.Name, t)
		}
	}
	for s := range used {
		for _, a := range s.Attributes {
			check(s, a)
			for _, sub := range a.SubAttributes {
				check(s, sub)
			}
		}
	}
}

// knownIDs is the fix hint for a URN that names no schema.
func (l *loader) knownIDs(urn string) string {
	var ids []string
	for _, s := range l.set.Schemas {
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	if m := suggest(urn, ids); m != "" {
		return fmt.Sprintf("did you mean %q?", m)
	}
	if len(ids) == 0 {
		return "add a schema file with that id"
	}
	return "add a schema file with that id, or use one of " + strings.Join(ids, ", ")
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
