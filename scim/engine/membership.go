package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// Membership is the join table behind a group's "members" and its members'
// derived "groups" (one row per group and member). Membership changes write
// rows and never load or rewrite the group, so large groups stay cheap.
type Membership struct {
	Table         string // e.g. "scim_group_members"
	GroupTable    string // e.g. "scim_groups"
	GroupEndpoint string // e.g. "/Groups"
	// GroupDisplay is the SQL expression (over alias g) for a group's display name.
	GroupDisplay string
}

// MemberType is one resource type that can be a member.
type MemberType struct {
	Name     string // "User"
	Table    string // "scim_users"
	Endpoint string // "/Users"
	// Display is the SQL expression (over alias x) for the member's display value.
	Display string
}

// MemberRef is one member as a client sends it: value (the member's id)
// and optionally its type.
type MemberRef struct {
	Value string
	Type  string
}

// MembersSpec wires a group resource type to the membership table.
type MembersSpec[T any] struct {
	Membership
	Types []MemberType
	// Get returns the members of a group value from a request.
	Get func(v *T) []MemberRef
}

type memberRow struct {
	bun.BaseModel
	GroupID    string `bun:"group_id"`
	MemberID   string `bun:"member_id"`
	MemberType string `bun:"member_type"`
}

// write stores the members of group id; replace drops existing rows first.
// Every member must exist; an unknown id is a 400, and nothing is written.
func (m *MembersSpec[T]) write(ctx context.Context, tx bun.IDB, id string, refs []MemberRef, replace bool) error {
	if replace {
		if _, err := tx.NewDelete().TableExpr("?", bun.Ident(m.Table)).Where("group_id = ?", id).Exec(ctx); err != nil {
			return err
		}
	}
	if len(refs) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(refs))
	var ids []string
	for _, r := range refs {
		if r.Value == "" {
			return scimerr.BadRequest(scimerr.InvalidValue, "members: every member needs a \"value\" (the member's id)")
		}
		if r.Value == id {
			return scimerr.BadRequest(scimerr.InvalidValue, "members: a group cannot be a member of itself")
		}
		if !seen[r.Value] {
			seen[r.Value] = true
			ids = append(ids, r.Value)
		}
	}
	found := make(map[string]string, len(ids)) // id -> member type
	for _, t := range m.Types {
		var got []string
		if err := tx.NewSelect().TableExpr("?", bun.Ident(t.Table)).Column("id").Where("id IN (?)", bun.In(ids)).Scan(ctx, &got); err != nil {
			return err
		}
		for _, g := range got {
			found[g] = t.Name
		}
	}
	rows := make([]memberRow, 0, len(ids))
	var missing []string
	for _, r := range refs {
		typ, ok := found[r.Value]
		if !ok {
			missing = append(missing, r.Value)
			continue
		}
		if r.Type != "" && !strings.EqualFold(r.Type, typ) {
			return scimerr.BadRequest(scimerr.InvalidValue, "members: %q is a %s, not a %s", r.Value, typ, r.Type)
		}
		if !seen[r.Value] {
			continue // a duplicate in the request: added once
		}
		seen[r.Value] = false
		rows = append(rows, memberRow{GroupID: id, MemberID: r.Value, MemberType: typ})
	}
	if len(missing) > 0 {
		return scimerr.BadRequest(scimerr.InvalidValue, "members: no resource with id %s", quoteList(missing))
	}
	_, err := tx.NewInsert().Model(&rows).ModelTableExpr("?", bun.Ident(m.Table)).Exec(ctx)
	return err
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

// membersQuery selects (group_id, member_id, member_type, display) for the
// groups whose ids are bound to placeholders in the IN list.
func (m *MembersSpec[T]) membersQuery(db *sqlstore.DB, n int) string {
	var b strings.Builder
	b.WriteString(`SELECT m."group_id", m."member_id", m."member_type", COALESCE(CASE m."member_type"`)
	for _, t := range m.Types {
		fmt.Fprintf(&b, ` WHEN '%s' THEN (SELECT %s FROM "%s" x WHERE x."id" = m."member_id")`, t.Name, t.Display, t.Table)
	}
	fmt.Fprintf(&b, ` END, '') FROM "%s" m WHERE m."group_id" IN (%s) ORDER BY m."group_id", m."member_type", m."member_id"`, m.Table, placeholders(db, n))
	return b.String()
}

func placeholders(db *sqlstore.DB, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = db.Placeholder(i + 1)
	}
	return strings.Join(ps, ",")
}

func (m *MembersSpec[T]) fragment(ctx context.Context, db *sqlstore.DB, id string) ([]byte, error) {
	f, err := m.fragments(ctx, db, []string{id})
	if err != nil {
		return nil, err
	}
	if b, ok := f[id]; ok {
		return b, nil
	}
	return []byte(`"members":[]`), nil
}

// fragments returns `"members":[…]` for each group id.
func (m *MembersSpec[T]) fragments(ctx context.Context, db *sqlstore.DB, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	endpoints := map[string]string{}
	for _, t := range m.Types {
		endpoints[t.Name] = t.Endpoint
	}
	rows, err := db.Query(ctx, m.membersQuery(db, len(ids)), anys(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	base := BaseURL(ctx)
	for rows.Next() {
		var gid, mid, typ, display string
		if err := rows.Scan(&gid, &mid, &typ, &display); err != nil {
			return nil, err
		}
		b := out[gid]
		if b == nil {
			b = append(b, `"members":[`...)
		} else {
			b = append(b, ',')
		}
		b = append(b, `{"value":`...)
		b = appendJSONString(b, mid)
		b = append(b, `,"$ref":`...)
		b = appendJSONString(b, base+endpoints[typ]+"/"+mid)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, typ)
		if display != "" {
			b = append(b, `,"display":`...)
			b = appendJSONString(b, display)
		}
		out[gid] = append(b, '}')
	}
	for _, id := range ids {
		if b, ok := out[id]; ok {
			out[id] = append(b, ']')
		} else {
			out[id] = []byte(`"members":[]`)
		}
	}
	return out, rows.Err()
}

func (m *Membership) groupsFragment(ctx context.Context, db *sqlstore.DB, id string) ([]byte, error) {
	f, err := m.groupsFragments(ctx, db, []string{id})
	if err != nil {
		return nil, err
	}
	return f[id], nil
}

// groupsFragments returns `"groups":[…]` (direct memberships) for each
// member id that belongs to at least one group.
func (m *Membership) groupsFragments(ctx context.Context, db *sqlstore.DB, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := fmt.Sprintf(`SELECT m."member_id", g."id", %s FROM "%s" m JOIN "%s" g ON g."id" = m."group_id" WHERE m."member_id" IN (%s) ORDER BY m."member_id", g."id"`,
		m.GroupDisplay, m.Table, m.GroupTable, placeholders(db, len(ids)))
	rows, err := db.Query(ctx, q, anys(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	base := BaseURL(ctx)
	for rows.Next() {
		var mid, gid string
		var display *string
		if err := rows.Scan(&mid, &gid, &display); err != nil {
			return nil, err
		}
		b := out[mid]
		if b == nil {
			b = append(b, `"groups":[`...)
		} else {
			b = append(b, ',')
		}
		b = append(b, `{"value":`...)
		b = appendJSONString(b, gid)
		b = append(b, `,"$ref":`...)
		b = appendJSONString(b, base+m.GroupEndpoint+"/"+gid)
		if display != nil && *display != "" {
			b = append(b, `,"display":`...)
			b = appendJSONString(b, *display)
		}
		out[mid] = append(b, `,"type":"direct"}`...)
	}
	for id, b := range out {
		out[id] = append(b, ']')
	}
	return out, rows.Err()
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// groupsColumn is a scalar subquery returning the JSON array of the groups
// that row r belongs to (SQLite JSON1). It binds one argument: the prefix
// of the groups' $ref ("https://host/scim/v2/Groups/").
func (m *Membership) groupsColumn() string {
	return fmt.Sprintf(`(SELECT json_group_array(json(x.j)) FROM (SELECT json_remove(json_object('value', g."id", '$ref', ? || g."id", 'display', %[1]s, 'type', 'direct'), CASE WHEN %[1]s IS NULL THEN '$.display' ELSE '$.none' END) AS j FROM "%[2]s" m JOIN "%[3]s" g ON g."id" = m."group_id" WHERE m."member_id" = r."id" ORDER BY g."id") x)`,
		m.GroupDisplay, m.Table, m.GroupTable)
}

// memberIDs returns the ids of the members of group id.
func (m *MembersSpec[T]) memberIDs(ctx context.Context, tx bun.IDB, id string) ([]string, error) {
	var ids []string
	err := tx.NewSelect().TableExpr("?", bun.Ident(m.Table)).Column("member_id").Where("group_id = ?", id).Scan(ctx, &ids)
	return ids, err
}
