package engine

import (
	"bytes"
	"context"
	"slices"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/tenant"
)

// secretPaths are the paths of the attributes stored hashed (writeOnly and
// returned "never", the generator's rule): a write that sends one changes it.
func secretPaths(rt *schema.ResourceType) []string {
	var out []string
	var walk func(prefix string, as []*schema.Attribute)
	walk = func(prefix string, as []*schema.Attribute) {
		for _, a := range as {
			if a.Mutability == schema.WriteOnly && a.Returned == schema.ReturnedNever {
				out = append(out, prefix+a.Name)
			}
			if !a.MultiValued {
				walk(prefix+a.Name+".", a.SubAttributes)
			}
		}
	}
	walk("", rt.Core.Attributes)
	for _, e := range rt.Extensions {
		walk(e.ID+":", e.Attributes)
	}
	return out
}

// before runs a Before hook inside tx. When the hook changed the value, it
// is validated again (Prepare and the immutability check) and re-encoded
// into rec, and a changed secret is hashed again: what is stored is always
// what validation accepted.
func (s *Service[T]) before(ctx context.Context, tx bun.Tx, name string, hook func(context.Context, *Write[T]) error, w *Write[T], rec *Record[T], op Op) error {
	w.Tx = tx
	err := hook(ctx, w)
	w.Tx = bun.Tx{}
	if err != nil {
		return s.hookError(name, err)
	}
	if w.New == nil {
		w.New = rec.Value
	}
	rec.Value = w.New
	doc, err := s.d.Encode(w.New)
	if err != nil {
		return err
	}
	if !bytes.Equal(doc, rec.Doc) {
		if err := s.d.Prepare(w.New, op); err != nil {
			return err
		}
		if w.Old != nil {
			if err := s.d.CheckImmutable(w.Old, w.New); err != nil {
				return err
			}
		}
		if doc, err = s.d.Encode(w.New); err != nil {
			return err
		}
		rec.Doc = doc
	}
	return s.hashSecrets(rec)
}

// after runs an After hook once the write has committed: its error is
// logged, because the client's write succeeded.
func (s *Service[T]) after(ctx context.Context, name string, hook func(context.Context, *Write[T]) error, w *Write[T]) {
	if err := hook(ctx, w); err != nil {
		s.log.Error(name+" hook failed", "resourceType", s.d.Type.Name, "id", w.ID, "err", err)
	}
}

// beforeMembers runs the group type's BeforeMembersChange hook for a
// membership change inside tx (nothing when no row changed).
func (s *Service[T]) beforeMembers(ctx context.Context, tx bun.Tx, groupID string, ch memberChange) error {
	if s.memberHooks == nil || len(ch.added)+len(ch.removed) == 0 {
		return nil
	}
	c := &MemberChange{Tx: tx, Tenant: tenant.Must(ctx), GroupID: groupID, Added: ch.added, Removed: ch.removed}
	if err := s.memberHooks.BeforeMembersChange(ctx, c); err != nil {
		return s.hookError("BeforeMembersChange", err)
	}
	return nil
}

// afterMembers runs AfterMembersChange after the commit.
func (s *Service[T]) afterMembers(ctx context.Context, groupID string, ch memberChange) {
	if s.memberHooks == nil || len(ch.added)+len(ch.removed) == 0 {
		return
	}
	c := &MemberChange{Tenant: tenant.Must(ctx), GroupID: groupID, Added: ch.added, Removed: ch.removed}
	if err := s.memberHooks.AfterMembersChange(ctx, c); err != nil {
		s.log.Error("AfterMembersChange hook failed", "resourceType", s.d.Type.Name, "id", groupID, "err", err)
	}
}

// diffCache keeps the changed paths of a document computed before the
// transaction, so the transaction (during which, on SQLite, every other
// write waits) only diffs again when a Before hook changed the document.
type diffCache struct {
	doc   []byte
	paths []string
	ok    bool
}

// prime diffs outside the transaction.
func (c *diffCache) prime(oldDoc, newDoc []byte) {
	if paths, err := changedPaths(oldDoc, newDoc); err == nil {
		c.doc, c.paths, c.ok = newDoc, paths, true
	}
}

// changed lists the attribute paths a write changes: those of the stored
// document (oldDoc nil on create), a secret that was sent (its value cannot
// be compared: it is stored hashed), and the members when rows changed.
func (s *Service[T]) changed(oldDoc []byte, rec *Record[T], members memberChange, cache *diffCache) ([]string, error) {
	var paths []string
	if cache.ok && bytes.Equal(cache.doc, rec.Doc) {
		paths = slices.Clone(cache.paths)
	} else {
		var err error
		if paths, err = changedPaths(oldDoc, rec.Doc); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(rec.Secrets, func(h string) bool { return h != "" }) {
		paths = append(paths, s.secretPaths...)
	}
	if len(members.added)+len(members.removed) > 0 && s.d.Members != nil {
		paths = append(paths, "members")
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

// change is the change feed's record of a write of rec.
func (s *Service[T]) change(op string, rec *Record[T], changed []string, members memberChange) *Change {
	return &Change{ResourceType: s.d.Type.Name, ID: rec.ID, Op: op, Version: rec.Version, Changed: changed,
		MembersAdded: members.addedIDs(), MembersRemoved: members.removed, Time: rec.LastModified}
}
