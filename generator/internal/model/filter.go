package model

import "github.com/scimforge/scimforge/scim/schema"

// Filterable is one attribute path that filters and sortBy accept for a
// resource type, and where its values are stored. The store's filter
// mapping (generated/store) and the partner reference (docs/reference.md)
// are both made from this list, so the reference never promises a path the
// server refuses.
type Filterable struct {
	// Path is the canonical path: "userName", "name.familyName",
	// "emails.value", "meta.created", "members.value",
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber".
	Path string
	Attr *schema.Attribute
	// Column holds the value: in the main table, in Child, or in the
	// membership table when Membership is set.
	Column string
	Child  *Child
	// Membership is the membership table's column naming the resource
	// the row belongs to ("group_id" for members, "member_id" for groups),
	// "" elsewhere.
	Membership string
	// Stored is the model column of Column, nil for the fixed columns (id,
	// created, last_modified) and the membership table's.
	Stored *Column
}

// Filterables lists the paths of r that filters and sortBy accept: id,
// meta.created and meta.lastModified, every stored simple attribute and
// sub-attribute except secrets (a filter on a password hash would leak it
// one guess at a time), and the ids and types of group memberships.
func (m *Model) Filterables(r *Resource) []Filterable {
	meta := schema.Common("meta")
	out := []Filterable{
		{Path: "id", Attr: schema.Common("id"), Column: "id"},
		{Path: "meta.created", Attr: meta.Sub("created"), Column: "created"},
		{Path: "meta.lastModified", Attr: meta.Sub("lastModified"), Column: "last_modified"},
	}
	for _, c := range r.Columns {
		if !c.Secret {
			out = append(out, Filterable{Path: c.FilterPath, Attr: c.Attr, Column: c.Name, Stored: c})
		}
	}
	for _, ch := range r.Children {
		for _, c := range ch.Columns {
			out = append(out, Filterable{Path: c.FilterPath, Attr: c.Attr, Column: c.Name, Child: ch, Stored: c})
		}
	}
	if m.Membership != nil {
		if r.Members != nil {
			if s := r.Members.Sub("value"); s != nil {
				out = append(out, Filterable{Path: "members.value", Attr: s, Column: "member_id", Membership: "group_id"})
			}
			if s := r.Members.Sub("type"); s != nil {
				out = append(out, Filterable{Path: "members.type", Attr: s, Column: "member_type", Membership: "group_id"})
			}
		}
		if r.Groups != nil {
			if s := r.Groups.Sub("value"); s != nil {
				out = append(out, Filterable{Path: "groups.value", Attr: s, Column: "group_id", Membership: "member_id"})
			}
		}
	}
	return out
}
