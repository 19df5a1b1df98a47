// scimforge:hooks Group

package hooks

import (
	"context"
	"log/slog"

	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/generated/resource"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
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

// BeforeMembersChange keeps app_group_members in step with the group's
// membership, in the same transaction: it can never say a user is in a
// group SCIM does not (or the other way round). It runs for every change:
// PATCH add/remove/replace, PUT, a group created with members or deleted,
// and a member user deleted. Statements go through sqlstore.Exec, which
// prepares each text once ("?" placeholders on both engines).
func (h *Group) BeforeMembersChange(ctx context.Context, c *engine.MemberChange) error {
	for _, m := range c.Added {
		if m.Type != "User" { // nested groups are not users
			continue
		}
		if err := sqlstore.Exec(ctx, c.Tx, `INSERT INTO app_group_members (tenant_id, group_id, user_id) VALUES (?, ?, ?) ON CONFLICT (tenant_id, group_id, user_id) DO NOTHING`,
			c.Tenant, c.GroupID, m.ID); err != nil {
			return err
		}
	}
	for _, id := range c.Removed {
		if err := sqlstore.Exec(ctx, c.Tx, `DELETE FROM app_group_members WHERE tenant_id = ? AND group_id = ? AND user_id = ?`, c.Tenant, c.GroupID, id); err != nil {
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
