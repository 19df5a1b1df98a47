package engine

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/patch"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/tenant"
)

// patchRetries bounds how often a PATCH is re-applied after losing a race
// with another write of the same resource. PATCH operations are relative
// ("add this member", "set active"), so re-applying them to the newer
// version is what the client asked for.
const patchRetries = 8

// errNoChange aborts a transaction that turned out to change nothing.
var errNoChange = errors.New("no change")

// Patch implements PATCH /{endpoint}/{id} (RFC 7644 §3.5.2). The operations
// are applied to the stored document (never to the member list: membership
// operations become row inserts and deletes), the result is validated as a
// whole, and one transaction writes it, so a request is atomic. A PATCH
// that changes nothing leaves version and lastModified alone.
//
// The response is 204 No Content (with the new ETag), which both Entra ID
// and Okta accept and which never sends a big group's member list; it is
// 200 with the resource when the client asks for it: an attributes or
// excludedAttributes parameter (RFC 7644 §3.5.2 requires the body then) or
// Prefer: return=representation.
func (s *Service[T]) Patch(ctx context.Context, id string, req *patch.Request, attributes, excluded string) (*Response, error) {
	if req == nil || len(req.Operations) == 0 {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "the request body is empty; send a PatchOp message")
	}
	if err := s.checkPatchValues(req); err != nil {
		return nil, err
	}
	proj, err := s.projection(attributes, excluded)
	if err != nil {
		return nil, err
	}
	cond := ConditionsFrom(ctx)
	full := attributes != "" || excluded != "" || cond.Representation
	// Concurrent PATCHes of one resource take turns (see keyLocks), so
	// each reads the version the previous one wrote.
	defer s.patching.lock(id)()
	for attempt := 0; ; attempt++ {
		resp, err := s.patchOnce(ctx, id, req, cond, proj, full)
		if errors.Is(err, errConflict) && attempt < patchRetries {
			continue
		}
		if errors.Is(err, errConflict) {
			return nil, scimerr.New(http.StatusConflict, "", "%s %q is being changed by other requests; retry", s.d.Type.Name, id)
		}
		return resp, err
	}
}

func (s *Service[T]) patchOnce(ctx context.Context, id string, req *patch.Request, cond Conditions, proj Projection, full bool) (*Response, error) {
	l, err := s.load(ctx, id)
	if err != nil {
		return nil, s.readError(err)
	}
	if err := cond.checkIfMatch(l.version); err != nil {
		return nil, err
	}
	doc, err := decodeDoc(l.doc)
	if err != nil {
		return nil, s.readError(err)
	}
	opts := patch.Options{}
	if s.d.Members != nil {
		opts.External = "members"
	}
	res, err := patch.Apply(s.d.Type, doc, req, opts)
	if err != nil {
		return nil, err
	}
	patched, err := json.Marshal(res.Doc)
	if err != nil {
		return nil, s.readError(err)
	}
	v, err := decodeBody[T](patched) // mapped as a request body is: a wrong type is invalidValue
	if err != nil {
		return nil, err
	}
	if err := s.d.Prepare(v, OpReplace); err != nil {
		return nil, err
	}
	old, newDoc, err := s.beforeWrite(l, v)
	if err != nil {
		return nil, err
	}
	if !res.Secret && bytes.Equal(newDoc, l.doc) && len(res.Members) == 0 {
		// Nothing to write: no version, no hooks, no change event.
		return s.patchResponse(ctx, l, proj, full)
	}
	rec := s.nextRecord(l, newDoc, v)
	if err := s.hashSecrets(rec); err != nil {
		return nil, err
	}
	w := &Write[T]{Tenant: tenant.Must(ctx), ID: id, Old: old, New: v, Version: rec.Version}
	var diff diffCache
	diff.prime(l.doc, rec.Doc)
	var members memberChange
	var docChanged bool
	err = s.db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		members = memberChange{} // the store may run this function twice
		if err := s.before(ctx, tx, "BeforePatch", s.hooks.BeforePatch, w, rec, OpReplace); err != nil {
			return err
		}
		docChanged = res.Secret || !bytes.Equal(rec.Doc, l.doc)
		if docChanged {
			if err := s.writeDoc(ctx, tx, l, old, rec, cond); err != nil {
				return err
			}
		}
		for _, op := range res.Members {
			ch, err := s.memberOp(ctx, tx, id, op)
			if err != nil {
				return err
			}
			members.add(ch)
		}
		if !docChanged {
			if members.n == 0 {
				return errNoChange
			}
			// Only the membership changed: the group's row moves to the next
			// version without being read or rewritten. Concurrent member
			// PATCHes each add their rows and each move the version once.
			var check int64
			if cond.IfMatch != "" {
				check = l.version
			}
			v, _, err := s.d.Members.touch(ctx, tx, id, rec.LastModified, check)
			if errors.Is(err, sql.ErrNoRows) {
				return s.lostRace(ctx, tx, id, cond)
			}
			if err != nil {
				return err
			}
			rec.Version, w.Version = v, v
		}
		if err := s.beforeMembers(ctx, tx, id, members); err != nil {
			return err
		}
		var err error
		if w.Changed, err = s.changed(l.doc, rec, members, &diff); err != nil {
			return err
		}
		return s.env.record(ctx, tx, s.change("patch", rec, w.Changed, members))
	})
	if errors.Is(err, errNoChange) {
		return s.patchResponse(ctx, l, proj, full)
	}
	if err != nil {
		if errors.Is(err, errConflict) {
			return nil, err
		}
		return nil, s.storeError(err)
	}
	s.env.committed(ctx)
	s.db.Cache.Invalidate(s.cacheTable(ctx), id)
	s.invalidateMembers(ctx, members.members)
	if docChanged {
		s.invalidateMemberTables()
	}
	nl := &loaded{id: id, version: rec.Version, created: rec.Created, last: rec.LastModified, doc: rec.Doc}
	resp, err := s.patchResponse(ctx, nl, proj, full)
	if err != nil {
		return nil, err
	}
	s.d.SetServerAttrs(w.New, id, s.meta(ctx, id, rec.Version, rec.Created, rec.LastModified))
	s.after(ctx, "AfterPatch", s.hooks.AfterPatch, w)
	s.afterMembers(ctx, id, members)
	return resp, nil
}

func (s *Service[T]) patchResponse(ctx context.Context, l *loaded, proj Projection, full bool) (*Response, error) {
	if !full {
		m := s.meta(ctx, l.id, l.version, l.created, l.last)
		return &Response{Status: http.StatusNoContent, ETag: m.Version, Location: m.Location}, nil
	}
	if s.d.GroupsOf != nil && !l.derivedDone {
		// A user's derived groups come with the row: read it again.
		fresh, err := s.load(ctx, l.id)
		if err != nil {
			return nil, s.readError(err)
		}
		l = fresh
	}
	return s.respond(ctx, http.StatusOK, l, proj)
}

// memberOp runs one membership operation of a group PATCH.
func (s *Service[T]) memberOp(ctx context.Context, tx bun.Tx, id string, op patch.MemberOp) (memberChange, error) {
	m := s.d.Members
	refs := make([]MemberRef, len(op.Values))
	ids := make([]string, len(op.Values))
	for i, v := range op.Values {
		refs[i] = MemberRef{Value: v.Value, Type: v.Type, Display: v.Display, Bare: v.Bare}
		ids[i] = v.Value
	}
	switch {
	case op.Kind == patch.Add:
		return m.addMembers(ctx, tx, id, refs)
	case op.Kind == patch.Replace:
		return m.replaceMembers(ctx, tx, id, refs)
	case op.Filter != nil:
		where, args, err := m.filterSQL(op.Filter)
		if err != nil {
			return memberChange{}, err
		}
		return m.removeWhere(ctx, tx, id, where, args)
	case op.All:
		return m.removeWhere(ctx, tx, id, "", nil)
	default:
		return m.removeMembers(ctx, tx, id, ids)
	}
}

// filterSQL compiles a members[...] value filter to a condition over the
// membership row: value and type, with eq/ne, and/or/not.
func (m *MembersSpec[T]) filterSQL(e filter.Expr) (string, []any, error) {
	var args []any
	var walk func(e filter.Expr) (string, error)
	walk = func(e filter.Expr) (string, error) {
		switch e := e.(type) {
		case *filter.Logical:
			l, err := walk(e.Left)
			if err != nil {
				return "", err
			}
			r, err := walk(e.Right)
			if err != nil {
				return "", err
			}
			return "(" + l + " " + strings.ToUpper(e.Op.String()) + " " + r + ")", nil
		case *filter.Not:
			x, err := walk(e.X)
			if err != nil {
				return "", err
			}
			return "NOT (" + x + ")", nil
		case *filter.Compare:
			var col string
			val := e.Value.Str
			switch strings.ToLower(e.Attr.Name) {
			case "value":
				col = `"member_id"`
			case "type":
				col = `"member_type"`
				for _, t := range m.Types { // stored as the type's name
					if strings.EqualFold(t.Name, val) {
						val = t.Name
					}
				}
			default:
				return "", scimerr.BadRequest(scimerr.InvalidFilter, "members[%s]: filter members by value or type", e)
			}
			if e.Attr.Sub != "" || e.Attr.URN != "" {
				return "", scimerr.BadRequest(scimerr.InvalidFilter, "members[%s]: filter members by value or type", e)
			}
			if e.Op == filter.Pr {
				return col + " IS NOT NULL", nil
			}
			if e.Value.Kind != filter.String || (e.Op != filter.Eq && e.Op != filter.Ne) {
				return "", scimerr.BadRequest(scimerr.InvalidFilter, "members[%s]: only eq and ne with a string are supported", e)
			}
			args = append(args, val)
			op := " = "
			if e.Op == filter.Ne {
				op = " <> "
			}
			return col + op + "?", nil
		}
		return "", scimerr.BadRequest(scimerr.InvalidFilter, "members[%s]: filter members by value or type", e)
	}
	w, err := walk(e)
	return w, args, err
}

// decodeDoc reads a stored document as a generic tree (numbers kept exact).
func decodeDoc(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
