// Package hooks is where an application adds its own behaviour around SCIM
// writes without touching generated code. This example does two things
// every real deployment asks for: an audit trail of provisioning events,
// and a policy that only accepts users from the company's own domains.
package hooks

import (
	"context"
	"log/slog"
	"strings"

	"github.com/scimforge/scimforge/generated/resource"
	"github.com/scimforge/scimforge/scim/scimerr"
)

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
func (h *User) BeforeCreate(ctx context.Context, u *resource.User) error {
	return h.checkDomain(u.UserName)
}

// BeforeReplace enforces the domain policy on renames too.
func (h *User) BeforeReplace(ctx context.Context, old, u *resource.User) error {
	return h.checkDomain(u.UserName)
}

// BeforePatch applies the same policy to a PATCH: a rename by PATCH (how
// Entra ID renames) must not slip past it.
func (h *User) BeforePatch(ctx context.Context, old, u *resource.User) error {
	if old != nil && strings.EqualFold(old.UserName, u.UserName) {
		return nil // unchanged: a user created before the policy keeps working
	}
	return h.checkDomain(u.UserName)
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
func (h *User) AfterCreate(ctx context.Context, u *resource.User) error {
	h.Log.Info("audit: user provisioned", "id", u.ID, "externalId", u.ExternalID, "active", u.Active == nil || bool(*u.Active))
	return nil
}

// AfterReplace records the event, noting deactivation (how Okta and Azure
// AD deprovision).
func (h *User) AfterReplace(ctx context.Context, u *resource.User) error {
	h.Log.Info("audit: user updated", "id", u.ID, "active", u.Active == nil || bool(*u.Active))
	return nil
}

// AfterDelete records the event.
// AfterPatch logs what matters to an app: a deactivation or reactivation
// (Entra ID and Okta both send it as a PATCH of active).
func (h *User) AfterPatch(ctx context.Context, old, u *resource.User) error {
	was, is := active(old), active(u)
	switch {
	case was && !is:
		h.Log.Info("audit: user deactivated", "id", u.ID)
	case !was && is:
		h.Log.Info("audit: user reactivated", "id", u.ID)
	default:
		h.Log.Info("audit: user updated", "id", u.ID, "active", is)
	}
	return nil
}

// active is the user's active flag; absent means active (RFC 7643 leaves
// the default to the service provider).
func active(u *resource.User) bool { return u == nil || u.Active == nil || bool(*u.Active) }

func (h *User) AfterDelete(ctx context.Context, id string) error {
	h.Log.Info("audit: user deleted", "id", id)
	return nil
}

// Group holds the Group hooks.
type Group struct {
	resource.UnimplementedGroupHooks
	Log *slog.Logger
}

var _ resource.GroupHooks = (*Group)(nil)

// AfterCreate records the event.
func (h *Group) AfterCreate(ctx context.Context, g *resource.Group) error {
	h.Log.Info("audit: group provisioned", "id", g.ID, "members", len(g.Members))
	return nil
}

// AfterDelete records the event.
func (h *Group) AfterDelete(ctx context.Context, id string) error {
	h.Log.Info("audit: group deleted", "id", id)
	return nil
}
