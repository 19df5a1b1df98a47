// Package engine is the resource-type-independent SCIM protocol logic:
// create, get, replace, delete and list (RFC 7644 §3.3-§3.6), with hooks,
// transactions, meta and the response bodies. Generated code describes each
// resource type with a Descriptor (typed struct, validators, bun models,
// filter mapping) and the engine does the rest, so the protocol is written
// once and every resource type - including ones a user adds in JSON - gets it.
//
// Storage follows the "document plus search index" pattern: each resource
// row holds the resource's canonical JSON (column doc), which is what reads
// return, and the same transaction writes the searchable projection
// (flattened columns and child tables) that filters run against. A GET is one
// indexed row read; see docs/DESIGN.md for the measurements behind this.
package engine

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/projection"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Op is the operation a value is being prepared for.
type Op int

// Operations that write a resource.
const (
	OpCreate Op = iota
	OpReplace
)

// Record is one stored resource as the generated store code writes it.
type Record[T any] struct {
	ID           string
	Version      int64
	Created      time.Time
	LastModified time.Time
	// Doc is the canonical JSON body: every stored attribute except id, meta,
	// derived attributes (groups, members) and returned:"never" ones.
	Doc   []byte
	Value *T
	// Secrets are the hashes of the value's secrets (password), computed by
	// Descriptor.HashSecrets before the write transaction; "" for none sent.
	Secrets []string
	// SecretInputs are the plain values Secrets were computed from, so that
	// HashSecrets, called again after Before hooks, hashes only a change.
	SecretInputs []string
}

// Descriptor is what generated code tells the engine about one resource type.
type Descriptor[T any] struct {
	Type    *schema.ResourceType
	Table   string
	Mapping *sqlfilter.Mapping

	// Prepare clears readOnly input, checks "schemas" and runs the validators.
	Prepare func(v *T, op Op) error
	// CheckImmutable rejects changes to immutable attributes on replace.
	CheckImmutable func(old, v *T) error
	// Encode returns the canonical document of v (see Record.Doc); it also
	// sets v's "schemas" to the core URN plus the extensions present.
	Encode func(v *T) ([]byte, error)
	Decode func(doc []byte) (*T, error)
	// SetServerAttrs copies id and meta into v before After hooks see it.
	SetServerAttrs func(v *T, id string, meta MetaValues)

	Insert func(ctx context.Context, tx bun.IDB, rec *Record[T]) error
	// Update writes the search columns and child rows of rec, given the
	// stored value old it replaces (nil rewrites everything); the engine
	// writes the main row's version, last_modified and doc itself.
	Update func(ctx context.Context, tx bun.IDB, old *T, rec *Record[T]) error
	// DeleteRows removes the resource's child rows (the main row is the engine's).
	DeleteRows func(ctx context.Context, tx bun.IDB, id string) error
	// HashSecrets fills rec.Secrets (nil when the type has no secret
	// attribute). The engine calls it before the write transaction: a
	// bcrypt hash costs tens of milliseconds no transaction should wait for.
	HashSecrets func(rec *Record[T]) error

	// Members is set on the group resource type (stored membership).
	Members *MembersSpec[T]
	// GroupsOf is set on member resource types with a derived "groups" attribute.
	GroupsOf *Membership
}

// MetaValues is the server-maintained "meta" of a resource.
type MetaValues struct {
	ResourceType, Created, LastModified, Location, Version string
}

// Service runs the SCIM operations of one resource type.
type Service[T any] struct {
	d           *Descriptor[T]
	env         *Env
	db          *sqlstore.DB
	hooks       Hooks[T]
	memberHooks MembershipHooks // the group type's, when its hooks have them
	log         *slog.Logger
	secretPaths []string // see secretPaths
	lim         Limits   // env.Limits with defaults

	patching keyLocks // PATCHes of one resource run one at a time

	returnedRequest bool       // the schema has returned:"request" attributes
	neverKeys       [][]byte   // see neverKeys
	defaultProj     Projection // no attributes/excludedAttributes, built once
	columns         string     // what every read selects (alias r)
	selectByID      string
}

// New returns the service for one resource type. Every service of one
// server shares env.
func New[T any](d *Descriptor[T], env *Env, hooks Hooks[T]) *Service[T] {
	s := &Service[T]{d: d, env: env, db: env.DB, hooks: hooks, log: env.Log, lim: env.Limits.WithDefaults()}
	if s.log == nil {
		s.log = slog.Default()
	}
	db := env.DB
	if d.Members != nil {
		d.Members.dialect = db.Dialect
		if mh, ok := hooks.(MembershipHooks); ok {
			s.memberHooks = mh
			env.setMemberHooks(d.Members.Table, mh)
		}
	}
	s.returnedRequest = hasReturnedRequest(d.Type)
	s.secretPaths = secretPaths(d.Type)
	s.neverKeys = neverKeys(d.Type)
	p, err := projection.New(d.Type, "", "")
	if err != nil {
		panic(fmt.Sprintf("engine: the default projection of %s: %v", d.Type.Name, err))
	}
	s.defaultProj = p
	s.columns = `r."id", r."version", r."created", r."last_modified", r."doc"`
	if d.GroupsOf != nil {
		d.GroupsOf.dialect = db.Dialect
		// The derived "groups" come back in the same statement as the row: a
		// second query per read would cost as much as the read itself.
		s.columns += ", " + d.GroupsOf.groupsColumn()
	}
	s.selectByID = fmt.Sprintf(`SELECT %s FROM %q r WHERE r."tenant_id" = ? AND r."id" = ?`, s.columns, d.Table)
	return s
}

// cacheTable is the row cache's name for this resource type's rows of the
// context's tenant: an id read for one tenant is never served to another.
func (s *Service[T]) cacheTable(ctx context.Context) string {
	return s.d.Table + "\x00" + tenant.Must(ctx)
}

// hashSecrets hashes rec's secrets, before any transaction begins.
func (s *Service[T]) hashSecrets(rec *Record[T]) error {
	if s.d.HashSecrets == nil {
		return nil
	}
	return s.d.HashSecrets(rec)
}

// readArgs are the arguments that s.columns binds before those of the WHERE clause.
func (s *Service[T]) readArgs(ctx context.Context, where ...any) []any {
	if s.d.GroupsOf == nil {
		return where
	}
	return append([]any{BaseURL(ctx) + s.d.GroupsOf.GroupEndpoint + "/"}, where...)
}

// neverKeys are the JSON keys (`"name":`) of the type's returned:"never"
// attributes, sub-attributes included. Encode leaves them out of the
// stored document, but a document written before the schema made an
// attribute "never" still holds it: a response whose document contains one
// of these keys goes through the default projection, which drops it. So a
// change to returned applies to stored data at once, while the documents
// that cannot hold such a key (all of them, once `scimforge reindex` has
// rewritten them) skip the JSON round trip.
func neverKeys(rt *schema.ResourceType) [][]byte {
	var keys [][]byte
	var walk func(as []*schema.Attribute)
	walk = func(as []*schema.Attribute) {
		for _, a := range as {
			if a.Returned == schema.ReturnedNever {
				keys = append(keys, []byte(strconv.Quote(a.Name)+":"))
			}
			walk(a.SubAttributes)
		}
	}
	walk(rt.Core.Attributes)
	for _, e := range rt.Extensions {
		walk(e.Attributes)
	}
	return keys
}

// mustProject says whether a representation built from doc needs the
// projection even when the request asks for the default one.
func (s *Service[T]) mustProject(doc []byte) bool {
	if s.returnedRequest {
		return true
	}
	for _, k := range s.neverKeys {
		if bytes.Contains(doc, k) {
			return true
		}
	}
	return false
}

func hasReturnedRequest(rt *schema.ResourceType) bool {
	var walk func(as []*schema.Attribute) bool
	walk = func(as []*schema.Attribute) bool {
		for _, a := range as {
			if a.Returned == schema.ReturnedRequest || walk(a.SubAttributes) {
				return true
			}
		}
		return false
	}
	if walk(rt.Core.Attributes) {
		return true
	}
	for _, e := range rt.Extensions {
		if walk(e.Attributes) {
			return true
		}
	}
	return false
}

// Type is the resource type this service serves.
func (s *Service[T]) Type() *schema.ResourceType { return s.d.Type }

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// hookError turns a hook's error into what the client sees.
func (s *Service[T]) hookError(op string, err error) error {
	if e := scimerr.As(err); e != nil {
		return e
	}
	s.log.Error("hook failed", "resourceType", s.d.Type.Name, "hook", op, "err", err)
	return scimerr.Internal()
}

// Create implements POST /{endpoint} (RFC 7644 §3.3).
func (s *Service[T]) Create(ctx context.Context, v *T) (*Response, error) {
	if v == nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "the request body is empty; send a %s resource", s.d.Type.Name)
	}
	if err := s.d.Prepare(v, OpCreate); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	rec := &Record[T]{ID: newID(), Version: 1, Created: now, LastModified: now, Value: v}
	doc, err := s.d.Encode(v)
	if err != nil {
		return nil, err
	}
	if err := s.lim.checkDoc(doc, nil); err != nil {
		return nil, err
	}
	rec.Doc = doc
	if err := s.hashSecrets(rec); err != nil {
		return nil, err
	}
	w := &Write[T]{Tenant: tenant.Must(ctx), ID: rec.ID, New: v, Version: 1}
	var diff diffCache
	diff.prime(nil, rec.Doc)
	var members memberChange
	err = s.db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		members = memberChange{} // the store may run this function twice
		if err := s.before(ctx, tx, "BeforeCreate", s.hooks.BeforeCreate, w, rec, OpCreate); err != nil {
			return err
		}
		if err := s.d.Insert(ctx, tx, rec); err != nil {
			return err
		}
		if s.d.Members != nil {
			ch, err := s.d.Members.addMembers(ctx, tx, rec.ID, s.d.Members.Get(rec.Value))
			if err != nil {
				return err
			}
			members = ch
			if err := s.beforeMembers(ctx, tx, rec.ID, members); err != nil {
				return err
			}
		}
		var err error
		if w.Changed, err = s.changed(nil, rec, members, &diff); err != nil {
			return err
		}
		return s.env.record(ctx, tx, s.change("create", rec, w.Changed, members))
	})
	if err != nil {
		return nil, s.storeError(err)
	}
	s.env.committed(ctx)
	s.invalidateMembers(ctx, members.members)
	// A new resource belongs to no group yet, so only members need loading.
	resp, err := s.respond(ctx, http.StatusCreated, &loaded{id: rec.ID, version: rec.Version, created: rec.Created, last: rec.LastModified, doc: rec.Doc, derivedDone: s.d.Members == nil}, nil)
	if err != nil {
		return nil, err
	}
	s.d.SetServerAttrs(w.New, rec.ID, s.meta(ctx, rec.ID, rec.Version, rec.Created, rec.LastModified))
	s.after(ctx, "AfterCreate", s.hooks.AfterCreate, w)
	s.afterMembers(ctx, rec.ID, members)
	return resp, nil
}

// newID returns a time-ordered UUID (version 7, RFC 9562): ids created
// one after another sort one after another, so the primary-key index and
// the child tables' (id, ord) keys grow at their right edge instead of at a
// random page each. Concurrent creates committed together then share index
// pages, which halves the pages a create writes (measured with make bench).
// An id is still opaque and unguessable (62 random bits). It is lower
// case, which the membership filters rely on (they treat stored ids as
// already folded; see the generator's store mapping).
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString() // no clock: a random id is as good, only slower to index
	}
	return id.String()
}

// storeError maps database errors to SCIM errors.
func (s *Service[T]) storeError(err error) error {
	if e := scimerr.As(err); e != nil {
		return e
	}
	if col, ok := sqlstore.UniqueViolation(err); ok {
		attr := s.attrForColumn(col)
		return scimerr.Conflict("%s: another %s already has this %s (uniqueness %q)", s.d.Type.Name, s.d.Type.Name, attr, "server")
	}
	if sqlstore.IsBusy(err) {
		e := scimerr.New(http.StatusServiceUnavailable, "", "the database is busy; retry shortly")
		e.Header = http.Header{"Retry-After": {"1"}}
		return e
	}
	s.log.Error("store failed", "resourceType", s.d.Type.Name, "err", err)
	return scimerr.Internal()
}

// attrForColumn names the attribute behind "table.column" for a 409 detail.
func (s *Service[T]) attrForColumn(col string) string {
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		col = col[i+1:] // SQLite names "table.column"
	} else if c, ok := strings.CutPrefix(col, s.d.Table+"_"); ok {
		col = strings.TrimSuffix(c, "_key") // PostgreSQL names the index "table_column_key"
	}
	for _, a := range s.d.Mapping.Attributes {
		if a.Child == nil && a.Column == col {
			return a.Path
		}
	}
	return "value"
}

// loaded is one row read back from the main table.
type loaded struct {
	id            string
	version       int64
	created, last time.Time
	doc           []byte
	// derived is the `"groups":[…]` fragment when derivedDone; otherwise
	// respond loads the derived attributes itself.
	derived     []byte
	derivedDone bool
}

// size is about what l holds in memory, for the row cache's budget.
func (l *loaded) size() int { return 96 + len(l.id) + cap(l.doc) + cap(l.derived) }

// scan reads one row selected with s.columns.
func (s *Service[T]) scan(sc interface{ Scan(...any) error }) (*loaded, error) {
	var l loaded
	var created, last string
	dest := []any{&l.id, &l.version, &created, &last, &l.doc}
	var groups *string
	if s.d.GroupsOf != nil {
		dest = append(dest, &groups)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if l.created, err = sqlstore.ParseTime(created); err != nil {
		return nil, err
	}
	if l.last, err = sqlstore.ParseTime(last); err != nil {
		return nil, err
	}
	if s.d.GroupsOf != nil {
		l.derivedDone = true
		if groups != nil && *groups != "[]" {
			l.derived = append([]byte(`"groups":`), *groups...)
		}
	}
	return &l, nil
}

func (s *Service[T]) load(ctx context.Context, id string) (*loaded, error) {
	l, err := s.scan(s.db.QueryRow(ctx, s.selectByID, s.readArgs(ctx, tenant.Must(ctx), id)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.NotFound("%s %q not found", s.d.Type.Name, id)
	}
	return l, err
}

// Get implements GET /{endpoint}/{id} (RFC 7644 §3.4.1).
func (s *Service[T]) Get(ctx context.Context, id, attributes, excluded string) (*Response, error) {
	proj, err := s.projection(attributes, excluded)
	if err != nil {
		return nil, err
	}
	base := BaseURL(ctx)
	var l *loaded
	if row, ok := s.db.Cache.Get(s.cacheTable(ctx), id, base); ok {
		l = row.(*loaded)
	} else {
		epoch := s.db.Cache.Begin()
		if l, err = s.load(ctx, id); err != nil {
			return nil, s.readError(err)
		}
		s.db.Cache.Put(s.cacheTable(ctx), id, l, l.size(), base, epoch)
	}
	if c := ConditionsFrom(ctx); c.IfMatch != "" && !matchesETag(c.IfMatch, l.version) {
		// RFC 7232 §3.1: If-Match applies to every method, GET included.
		return nil, preconditionFailed(l.version)
	} else if c.IfNoneMatch != "" && matchesETag(c.IfNoneMatch, l.version) {
		// RFC 7232 §4.1: the client's copy is current.
		return &Response{Status: http.StatusNotModified, ETag: etag(l.version), Location: s.meta(ctx, id, l.version, l.created, l.last).Location}, nil
	}
	return s.respond(ctx, http.StatusOK, l, proj)
}

func (s *Service[T]) readError(err error) error {
	if e := scimerr.As(err); e != nil {
		return e
	}
	s.log.Error("read failed", "resourceType", s.d.Type.Name, "err", err)
	return scimerr.Internal()
}

// Replace implements PUT /{endpoint}/{id} (RFC 7644 §3.5.1).
func (s *Service[T]) Replace(ctx context.Context, id string, v *T) (*Response, error) {
	if v == nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "the request body is empty; send the whole %s resource", s.d.Type.Name)
	}
	if err := s.d.Prepare(v, OpReplace); err != nil {
		return nil, err
	}
	l, err := s.load(ctx, id)
	if err != nil {
		return nil, s.readError(err)
	}
	cond := ConditionsFrom(ctx)
	if err := cond.checkIfMatch(l.version); err != nil {
		return nil, err
	}
	old, doc, err := s.beforeWrite(l, v)
	if err != nil {
		return nil, err
	}
	rec := s.nextRecord(l, doc, v)
	if err := s.hashSecrets(rec); err != nil {
		return nil, err
	}
	w := &Write[T]{Tenant: tenant.Must(ctx), ID: id, Old: old, New: v, Version: rec.Version}
	var diff diffCache
	diff.prime(l.doc, rec.Doc)
	var members memberChange
	err = s.db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		members = memberChange{}
		if err := s.before(ctx, tx, "BeforeReplace", s.hooks.BeforeReplace, w, rec, OpReplace); err != nil {
			return err
		}
		if err := s.writeDoc(ctx, tx, l, old, rec, cond); err != nil {
			return err
		}
		if s.d.Members != nil {
			// A diff against the stored rows: members that stay are not
			// rewritten, so a PUT of a big group costs what changed.
			var err error
			if members, err = s.d.Members.replaceMembers(ctx, tx, id, s.d.Members.Get(rec.Value)); err != nil {
				return err
			}
			if err := s.beforeMembers(ctx, tx, id, members); err != nil {
				return err
			}
		}
		var err error
		if w.Changed, err = s.changed(l.doc, rec, members, &diff); err != nil {
			return err
		}
		return s.env.record(ctx, tx, s.change("replace", rec, w.Changed, members))
	})
	if errors.Is(err, errConflict) {
		// PUT is absolute: replaying it over the other write would silently
		// undo that write, so the client decides (RFC 7644 §3.5.1).
		return nil, scimerr.New(http.StatusConflict, "", "%s %q was changed by another request; retry", s.d.Type.Name, id)
	}
	if err != nil {
		return nil, s.storeError(err)
	}
	s.env.committed(ctx)
	s.db.Cache.Invalidate(s.cacheTable(ctx), id)
	s.invalidateMembers(ctx, members.members)
	if !bytes.Equal(rec.Doc, l.doc) {
		s.invalidateMemberTables()
	}
	resp, err := s.respond(ctx, http.StatusOK, &loaded{id: id, version: rec.Version, created: rec.Created, last: rec.LastModified, doc: rec.Doc}, nil)
	if err != nil {
		return nil, err
	}
	s.d.SetServerAttrs(w.New, id, s.meta(ctx, id, rec.Version, rec.Created, rec.LastModified))
	s.after(ctx, "AfterReplace", s.hooks.AfterReplace, w)
	s.afterMembers(ctx, id, members)
	return resp, nil
}

// beforeWrite runs what every update of stored resource l into v does
// before its transaction: the immutability check against the stored value
// and encoding. It returns the stored value and v's new document.
func (s *Service[T]) beforeWrite(l *loaded, v *T) (*T, []byte, error) {
	old, err := s.d.Decode(l.doc)
	if err != nil {
		return nil, nil, s.readError(err)
	}
	if err := s.d.CheckImmutable(old, v); err != nil {
		return nil, nil, err
	}
	doc, err := s.d.Encode(v)
	if err != nil {
		return nil, nil, err
	}
	if err := s.lim.checkDoc(doc, l.doc); err != nil {
		return nil, nil, err
	}
	return old, doc, nil
}

// nextRecord is the record that replaces l with doc: the next version, and
// a lastModified strictly after the previous one.
func (s *Service[T]) nextRecord(l *loaded, doc []byte, v *T) *Record[T] {
	rec := &Record[T]{ID: l.id, Version: l.version + 1, Created: l.created, LastModified: time.Now().UTC(), Doc: doc, Value: v}
	if !rec.LastModified.After(l.last) {
		rec.LastModified = l.last.Add(time.Microsecond)
	}
	return rec
}

// errConflict is a lost race with another write of the same resource.
var errConflict = errors.New("concurrent write")

// writeDoc stores rec over l, whose stored value is old: the main row
// (checked against the version that was read, so a concurrent write is
// never lost), then what changed among the search columns and child rows.
func (s *Service[T]) writeDoc(ctx context.Context, tx bun.Tx, l *loaded, old *T, rec *Record[T], cond Conditions) error {
	n, err := sqlstore.ExecRows(ctx, tx, `UPDATE "`+s.d.Table+`" SET "version" = ?, "last_modified" = ?, "doc" = ? WHERE "tenant_id" = ? AND "id" = ? AND "version" = ?`,
		rec.Version, sqlstore.FormatTime(rec.LastModified), string(rec.Doc), tenant.Must(ctx), l.id, l.version)
	if err != nil {
		return err
	}
	if n != 1 {
		return s.lostRace(ctx, tx, l.id, cond)
	}
	return s.d.Update(ctx, tx, old, rec)
}

// lostRace explains why a versioned update matched no row: the resource
// is gone (404), If-Match named the version that was overtaken (412), or
// another request wrote first (errConflict: the caller may retry).
func (s *Service[T]) lostRace(ctx context.Context, tx bun.Tx, id string, cond Conditions) error {
	var version int64
	err := sqlstore.QueryRowTx(ctx, tx, `SELECT "version" FROM "`+s.d.Table+`" WHERE "tenant_id" = ? AND "id" = ?`, tenant.Must(ctx), id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return scimerr.NotFound("%s %q not found", s.d.Type.Name, id)
	}
	if err != nil {
		return err
	}
	if cond.IfMatch != "" {
		return preconditionFailed(version)
	}
	return errConflict
}

// Delete implements DELETE /{endpoint}/{id} (RFC 7644 §3.6).
func (s *Service[T]) Delete(ctx context.Context, id string) error {
	cond := ConditionsFrom(ctx)
	var version int64 // the version If-Match was checked against
	if cond.IfMatch != "" || cond.IfNoneMatch != "" {
		l, err := s.load(ctx, id)
		if err != nil {
			return s.readError(err)
		}
		if err := cond.checkIfMatch(l.version); err != nil {
			return err
		}
		if cond.IfMatch != "" {
			version = l.version
		}
	}
	w := &Write[T]{Tenant: tenant.Must(ctx), ID: id}
	var oldMembers memberChange
	var groups []groupVersion
	err := s.db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		oldMembers, groups = memberChange{}, nil
		if s.d.Members != nil {
			// A group's member rows go before its row, whose delete would
			// cascade to them unseen: their members' cached rows show it.
			ch, err := s.d.Members.removeWhere(ctx, tx, id, "", nil)
			if err != nil {
				return err
			}
			oldMembers = ch
		}
		// Then the main row, before the membership cleanup: its DELETE waits for any transaction
		// that is adding this resource to a group (that one holds a share
		// lock on the row, see MembersSpec.resolve), and the membership
		// cleanup below then runs after it and sees its rows. Another order
		// could leave a membership naming a deleted resource.
		q := `DELETE FROM "` + s.d.Table + `" WHERE "tenant_id" = ? AND "id" = ?`
		args := []any{tenant.Must(ctx), id}
		if version != 0 {
			// The version If-Match accepted must still be current.
			q += ` AND "version" = ?`
			args = append(args, version)
		}
		var doc []byte
		err := sqlstore.QueryRowTx(ctx, tx, q+` RETURNING "version", "doc"`, args...).Scan(&w.Version, &doc)
		if errors.Is(err, sql.ErrNoRows) {
			if version != 0 {
				return s.lostRace(ctx, tx, id, Conditions{IfMatch: cond.IfMatch})
			}
			return scimerr.NotFound("%s %q not found", s.d.Type.Name, id)
		}
		if err != nil {
			return err
		}
		if err := s.d.DeleteRows(ctx, tx, id); err != nil {
			return err
		}
		if ms := s.membership(); ms != nil {
			// The groups this resource belonged to change: their members
			// list loses it, so their version and lastModified move too.
			if groups, err = ms.leaveAll(ctx, tx, id); err != nil {
				return err
			}
		}
		if w.Old, err = s.d.Decode(doc); err != nil {
			return err
		}
		w.Tx = tx
		err = s.hooks.BeforeDelete(ctx, w)
		w.Tx = bun.Tx{}
		if err != nil {
			return s.hookError("BeforeDelete", err)
		}
		if err := s.beforeMembers(ctx, tx, id, oldMembers); err != nil {
			return err
		}
		changes := []*Change{{ResourceType: s.d.Type.Name, ID: id, Op: "delete", Version: w.Version, MembersRemoved: oldMembers.removed, Time: time.Now().UTC()}}
		if len(groups) > 0 {
			ms := s.membership()
			mh := s.env.memberHooksOf(ms.Table)
			for _, g := range groups {
				if mh != nil {
					c := &MemberChange{Tx: tx, Tenant: w.Tenant, GroupID: g.id, Removed: []string{id}}
					if err := mh.BeforeMembersChange(ctx, c); err != nil {
						return s.hookError("BeforeMembersChange", err)
					}
				}
				changes = append(changes, &Change{ResourceType: ms.GroupType, ID: g.id, Op: "patch", Version: g.version,
					Changed: []string{"members"}, MembersRemoved: []string{id}, Time: changes[0].Time})
			}
		}
		return s.env.record(ctx, tx, changes...)
	})
	if err != nil {
		return s.storeError(err)
	}
	s.env.committed(ctx)
	s.db.Cache.Invalidate(s.cacheTable(ctx), id)
	s.invalidateMembers(ctx, oldMembers.members)
	if ms := s.membership(); ms != nil && len(groups) > 0 {
		ids := make([]string, len(groups))
		for i, g := range groups {
			ids[i] = g.id
		}
		s.db.Cache.Invalidate(ms.GroupTable+"\x00"+tenant.Must(ctx), ids...)
	}
	s.after(ctx, "AfterDelete", s.hooks.AfterDelete, w)
	s.afterMembers(ctx, id, oldMembers)
	if len(groups) > 0 {
		if mh := s.env.memberHooksOf(s.membership().Table); mh != nil {
			for _, g := range groups {
				if err := mh.AfterMembersChange(ctx, &MemberChange{Tenant: w.Tenant, GroupID: g.id, Removed: []string{id}}); err != nil {
					s.log.Error("AfterMembersChange hook failed", "group", g.id, "err", err)
				}
			}
		}
	}
	return nil
}

func (s *Service[T]) meta(ctx context.Context, id string, version int64, created, last time.Time) MetaValues {
	return MetaValues{
		ResourceType: s.d.Type.Name,
		Created:      created.Format(time.RFC3339Nano),
		LastModified: last.Format(time.RFC3339Nano),
		Location:     BaseURL(ctx) + s.d.Type.Endpoint + "/" + id,
		Version:      etag(version),
	}
}

// respond composes the representation of one resource from its stored
// document without decoding it: {"id":…, <doc members>, <derived>, "meta":{…}}.
// Only when the client asked for a projection (or the schema has
// returned:"request" attributes) is the body decoded and re-encoded.
func (s *Service[T]) respond(ctx context.Context, status int, l *loaded, proj Projection) (*Response, error) {
	derived := l.derived
	var err error
	if !l.derivedDone {
		if s.d.Members != nil && (proj == nil || proj.Wants("", "members")) {
			derived, err = s.d.Members.fragment(ctx, s.db, l.id)
		} else if s.d.GroupsOf != nil && (proj == nil || proj.Wants("", "groups")) {
			derived, err = s.d.GroupsOf.groupsFragment(ctx, s.db, l.id)
		}
	}
	if err != nil {
		return nil, s.readError(err)
	}
	id, doc := l.id, l.doc
	m := s.meta(ctx, id, l.version, l.created, l.last)
	body := compose(make([]byte, 0, len(doc)+len(derived)+256), id, doc, derived, m)
	if s.mustProject(doc) || (proj != nil && !proj.Default()) {
		if proj == nil {
			proj = s.defaultProj
		}
		if body, err = proj.ApplyJSON(body); err != nil {
			return nil, s.readError(err)
		}
	}
	return &Response{Status: status, Body: body, Location: m.Location, ETag: m.Version}, nil
}

// compose writes one resource representation.
func compose(b []byte, id string, doc, derived []byte, m MetaValues) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	inner := bytes.TrimSpace(doc)
	if len(inner) >= 2 {
		inner = bytes.TrimSpace(inner[1 : len(inner)-1])
	}
	if len(inner) > 0 {
		b = append(b, ',')
		b = append(b, inner...)
	}
	if len(derived) > 0 {
		b = append(b, ',')
		b = append(b, derived...)
	}
	b = append(b, `,"meta":{"resourceType":`...)
	b = appendJSONString(b, m.ResourceType)
	b = append(b, `,"created":`...)
	b = appendJSONString(b, m.Created)
	b = append(b, `,"lastModified":`...)
	b = appendJSONString(b, m.LastModified)
	b = append(b, `,"location":`...)
	b = appendJSONString(b, m.Location)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, m.Version)
	return append(b, "}}"...)
}

// invalidateMembers forgets cached member rows whose derived "groups"
// changed with a group write.
func (s *Service[T]) invalidateMembers(ctx context.Context, ids []string) {
	if s.d.Members == nil || len(ids) == 0 {
		return
	}
	for _, t := range s.d.Members.Types {
		s.db.Cache.Invalidate(t.Table+"\x00"+tenant.Must(ctx), ids...)
	}
}

// invalidateMemberTables forgets every cached member row after a change to
// a group's own attributes, which every member shows in its derived groups.
func (s *Service[T]) invalidateMemberTables() {
	if s.d.Members == nil {
		return
	}
	for _, t := range s.d.Members.Types {
		s.db.Cache.InvalidateTable(t.Table)
	}
}

func refValues(refs []MemberRef) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.Value
	}
	return ids
}

// membership is the join table this resource type takes part in, as a
// group or as a member.
func (s *Service[T]) membership() *Membership {
	if s.d.Members != nil {
		return &s.d.Members.Membership
	}
	return s.d.GroupsOf
}
