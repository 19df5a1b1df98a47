// scimforge:hooks User

package hooks

import (
	"context"
	"log/slog"
	"strings"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/generated/resource"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

func init() {
	register(func(d Deps, h *api.Hooks) {
		h.User = &User{Log: d.Log, AllowedDomains: d.AllowedDomains}
	})
}

// User holds the User hooks.
type User struct {
	// Embedding the no-op implementation keeps this compiling when the
	// generator adds hooks.
	resource.UnimplementedUserHooks

	Log *slog.Logger
	// AllowedDomains, when not empty, lists the userName domains accepted
	// (compared case-insensitively).
	AllowedDomains []string
}

var _ resource.UserHooks = (*User)(nil)

// BeforeCreate enforces the domain policy.
func (h *User) BeforeCreate(ctx context.Context, w *resource.UserWrite) error {
	return h.checkDomain(w.New.UserName)
}

// BeforeReplace enforces the domain policy on renames, and revokes the
// user's sessions when the replace deactivates the user (how Okta
// deprovisions).
func (h *User) BeforeReplace(ctx context.Context, w *resource.UserWrite) error {
	return h.beforeUpdate(ctx, w)
}

// BeforePatch does the same for a PATCH: a rename by PATCH (how Entra ID
// renames) must not slip past the policy, and Entra ID deactivates with a
// PATCH of active.
func (h *User) BeforePatch(ctx context.Context, w *resource.UserWrite) error {
	return h.beforeUpdate(ctx, w)
}

func (h *User) beforeUpdate(ctx context.Context, w *resource.UserWrite) error {
	if !strings.EqualFold(w.Old.UserName, w.New.UserName) {
		// Only a rename is checked: a user created before the policy keeps working.
		if err := h.checkDomain(w.New.UserName); err != nil {
			return err
		}
	}
	if Active(w.Old) && !Active(w.New) {
		return h.revokeSessions(ctx, w.Tx, w.Tenant, w.ID)
	}
	return nil
}

// BeforeDelete revokes the deleted user's sessions.
func (h *User) BeforeDelete(ctx context.Context, w *resource.UserWrite) error {
	return h.revokeSessions(ctx, w.Tx, w.Tenant, w.ID)
}

// revokeSessions deletes the user's sessions in the write's transaction:
// if the deactivation does not commit, the sessions stay; if it commits,
// no session outlives it.
func (h *User) revokeSessions(ctx context.Context, tx bun.Tx, tenant, id string) error {
	// sqlstore.ExecRows runs a prepared statement ("?" placeholders on both
	// engines): cheaper than building the query each time.
	n, err := sqlstore.ExecRows(ctx, tx, `DELETE FROM app_sessions WHERE tenant_id = ? AND user_id = ?`, tenant, id)
	if err != nil {
		return err // not a SCIM error: the client gets a 500, the write rolls back
	}
	if n > 0 {
		h.Log.Info("audit: sessions revoked", "tenant", tenant, "user", id, "sessions", n)
	}
	return nil
}

func (h *User) checkDomain(userName string) error {
	if len(h.AllowedDomains) == 0 {
		return nil
	}
	_, domain, ok := strings.Cut(userName, "@")
	if ok {
		for _, d := range h.AllowedDomains {
			if strings.EqualFold(domain, d) {
				return nil
			}
		}
	}
	return scimerr.BadRequest(scimerr.InvalidValue, "userName %q is not in an allowed domain (%s)", userName, strings.Join(h.AllowedDomains, ", "))
}

// AfterCreate records the event. It logs ids, not personal data.
func (h *User) AfterCreate(ctx context.Context, w *resource.UserWrite) error {
	h.Log.Info("audit: user provisioned", "tenant", w.Tenant, "id", w.ID, "active", Active(w.New))
	return nil
}

// AfterReplace and AfterPatch record what matters to an application: a
// deactivation or reactivation, or which attributes changed.
func (h *User) AfterReplace(ctx context.Context, w *resource.UserWrite) error {
	h.audit(w)
	return nil
}

// AfterPatch: see AfterReplace.
func (h *User) AfterPatch(ctx context.Context, w *resource.UserWrite) error {
	h.audit(w)
	return nil
}

func (h *User) audit(w *resource.UserWrite) {
	was, is := Active(w.Old), Active(w.New)
	switch {
	case was && !is:
		h.Log.Info("audit: user deactivated", "tenant", w.Tenant, "id", w.ID)
	case !was && is:
		h.Log.Info("audit: user reactivated", "tenant", w.Tenant, "id", w.ID)
	default:
		h.Log.Info("audit: user updated", "tenant", w.Tenant, "id", w.ID, "changed", w.Changed)
	}
}

// AfterDelete records the event.
func (h *User) AfterDelete(ctx context.Context, w *resource.UserWrite) error {
	h.Log.Info("audit: user deleted", "tenant", w.Tenant, "id", w.ID)
	return nil
}

// Active is the user's active flag; absent means active (RFC 7643 leaves
// the default to the service provider).
func Active(u *resource.User) bool { return u == nil || u.Active == nil || bool(*u.Active) }
