// scimforge:hooks Group

package hooks

import (
	"context"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/generated/resource"
	"github.com/scimforge/scimforge/scim/engine"
)

func init() {
	register(func(d Deps, h *api.Hooks) { h.Group = &Group{Log: d.Log} })
}

// Group holds the Group hooks.
type Group struct {
	resource.UnimplementedGroupHooks
	Log *slog.Logger
}

var _ resource.GroupHooks = (*Group)(nil)

// groupMember is a row of the application's app_group_members table.
type groupMember struct {
	TenantID string `bun:"tenant_id"`
	GroupID  string `bun:"group_id"`
	UserID   string `bun:"user_id"`
}

// BeforeMembersChange keeps app_group_members in step with the group's
// membership, in the same transaction: it can never say a user is in a
// group SCIM does not (or the other way round). It runs for every change:
// PATCH add/remove/replace, PUT, a group created with members or deleted,
// and a member user deleted.
func (h *Group) BeforeMembersChange(ctx context.Context, c *engine.MemberChange) error {
	var rows []groupMember
	for _, m := range c.Added {
		if m.Type == "User" { // nested groups are not users
			rows = append(rows, groupMember{c.Tenant, c.GroupID, m.ID})
		}
	}
	if len(rows) > 0 {
		_, err := c.Tx.NewInsert().Model(&rows).ModelTableExpr("app_group_members").
			On("CONFLICT (tenant_id, group_id, user_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
	}
	// Bounded batches: a PUT may remove thousands of members at once.
	for start := 0; start < len(c.Removed); start += 500 {
		chunk := c.Removed[start:min(start+500, len(c.Removed))]
		_, err := c.Tx.NewDelete().Table("app_group_members").
			Where("tenant_id = ?", c.Tenant).Where("group_id = ?", c.GroupID).
			Where("user_id IN (?)", bun.In(chunk)).Exec(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// AfterMembersChange records the change (counts and ids, no personal data).
func (h *Group) AfterMembersChange(ctx context.Context, c *engine.MemberChange) error {
	h.Log.Info("audit: group membership changed", "tenant", c.Tenant, "group", c.GroupID, "added", len(c.Added), "removed", len(c.Removed))
	return nil
}

// AfterCreate records the event.
func (h *Group) AfterCreate(ctx context.Context, w *resource.GroupWrite) error {
	h.Log.Info("audit: group provisioned", "tenant", w.Tenant, "id", w.ID)
	return nil
}

// AfterDelete records the event.
func (h *Group) AfterDelete(ctx context.Context, w *resource.GroupWrite) error {
	h.Log.Info("audit: group deleted", "tenant", w.Tenant, "id", w.ID)
	return nil
}
