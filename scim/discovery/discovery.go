// Package discovery serves the RFC 7644 §4 discovery endpoints
// (/ServiceProviderConfig, /Schemas, /ResourceTypes) from the schema
// documents exactly as written in schemas/, with meta.location made absolute
// for the request's base URL.
package discovery

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Docs holds the documents of one schema set.
type Docs struct {
	set *schema.Set
	// spc replaces the set's ServiceProviderConfig once EditServiceProviderConfig ran.
	spc []byte
}

// EditServiceProviderConfig changes the served ServiceProviderConfig: edit
// receives its top-level members (authenticationSchemes, filter, bulk…)
// and changes them in place. The schemas' document is what the schema
// author wrote; the parts that depend on how the server is configured
// (which credentials it accepts, the limits it enforces) are set here at
// start, so the document never announces what the server does not do.
// Not safe to call while requests are served.
func (d *Docs) EditServiceProviderConfig(edit func(doc map[string]json.RawMessage) error) error {
	raw := d.spc
	if raw == nil {
		raw = d.set.ServiceProviderConfig
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if err := edit(doc); err != nil {
		return err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	d.spc = out
	return nil
}

// New returns the discovery documents of set.
func New(set *schema.Set) *Docs { return &Docs{set: set} }

// withLocation returns raw with meta.location prefixed by base. The rest
// of the document is passed through untouched, key order included.
func withLocation(raw []byte, base string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var meta map[string]json.RawMessage
	if m, ok := doc["meta"]; ok {
		_ = json.Unmarshal(m, &meta)
	}
	if meta == nil {
		return compact(raw)
	}
	var loc string
	_ = json.Unmarshal(meta["location"], &loc)
	if loc == "" || strings.Contains(loc, "://") {
		return compact(raw)
	}
	abs, _ := json.Marshal(base + loc)
	// Replace the location value in place to keep the document verbatim.
	old, _ := json.Marshal(loc)
	out := bytes.Replace(raw, []byte(`"location": `+string(old)), []byte(`"location": `+string(abs)), 1)
	if bytes.Equal(out, raw) {
		out = bytes.Replace(raw, []byte(`"location":`+string(old)), []byte(`"location":`+string(abs)), 1)
	}
	return compact(out)
}

func compact(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func list(items [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"schemas":["` + schema.ListResponseURN + `"],"totalResults":`)
	b.WriteString(strconv.Itoa(len(items)))
	b.WriteString(`,"startIndex":1,"itemsPerPage":`)
	b.WriteString(strconv.Itoa(len(items)))
	b.WriteString(`,"Resources":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// ServiceProviderConfig returns the RFC 7643 §5 document.
func (d *Docs) ServiceProviderConfig(base string) ([]byte, error) {
	if d.spc != nil {
		return withLocation(d.spc, base)
	}
	return withLocation(d.set.ServiceProviderConfig, base)
}

// Schemas returns a ListResponse of every schema (RFC 7644 §4).
func (d *Docs) Schemas(base string) ([]byte, error) {
	var items [][]byte
	for _, s := range d.set.Schemas {
		b, err := withLocation(s.Raw, base)
		if err != nil {
			return nil, err
		}
		items = append(items, b)
	}
	return list(items), nil
}

// Schema returns one schema by URN, or a 404.
func (d *Docs) Schema(base, id string) ([]byte, error) {
	s := d.set.Schema(id)
	if s == nil {
		return nil, scimerr.NotFound("schema %q not found", id)
	}
	return withLocation(s.Raw, base)
}

// ResourceTypes returns a ListResponse of every resource type.
func (d *Docs) ResourceTypes(base string) ([]byte, error) {
	var items [][]byte
	for _, rt := range d.set.ResourceTypes {
		b, err := withLocation(rt.Raw, base)
		if err != nil {
			return nil, err
		}
		items = append(items, b)
	}
	return list(items), nil
}

// ResourceType returns one resource type by name (or id), or a 404.
func (d *Docs) ResourceType(base, name string) ([]byte, error) {
	rt := d.set.ResourceType(name)
	if rt == nil {
		for _, r := range d.set.ResourceTypes {
			if strings.EqualFold(r.ID, name) {
				rt = r
			}
		}
	}
	if rt == nil {
		return nil, scimerr.NotFound("resource type %q not found", name)
	}
	return withLocation(rt.Raw, base)
}
