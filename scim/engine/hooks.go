package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// Write is what a hook learns about one write of a resource of type T.
//
// Before hooks (BeforeCreate, BeforeReplace, BeforePatch, BeforeDelete) run
// inside the write's transaction, after the request was validated and
// before the resource's rows are written (BeforeDelete: after its row is
// gone, so it sees the deleted value and may still roll the delete back).
// They may change New (the change is validated again and stored), reject
// the write by returning an error (a *scimerr.Error is sent to the client
// as it is; any other error becomes a 500 and is logged), or write the
// application's own rows through Tx: those rows commit or roll back with
// the resource. A Before hook may run more than once for one request (a
// PATCH that lost a race with another write is applied again to the newer
// version; SQLite's group commit may replay a batch): it must have no
// effect outside Tx, and it must be quick, because on SQLite every other
// write waits for it.
//
// After hooks (AfterCreate, …) run once the write has committed, once per
// request, with Tx nil. Their errors are logged; the client still gets its
// success answer, because the write is durable. Work that must not be lost
// belongs in a Before hook (same transaction) or in a consumer of the
// change feed, which is at-least-once.
type Write[T any] struct {
	// Tx is the write transaction (Before hooks only). bun formats "?"
	// placeholders for the database in use, so one statement serves SQLite
	// and PostgreSQL.
	Tx bun.Tx
	// Tenant is the tenant the request acts for ("default" without tenancy).
	Tenant string
	// ID is the resource's id; a create's id is assigned before BeforeCreate.
	ID string
	// Old is the stored resource before the write: nil on create.
	Old *T
	// New is the resource being written: nil on delete. A Before hook may
	// change it. A group's members are not part of Old or New on PATCH:
	// membership changes reach the MembersChanged hooks as ids.
	New *T
	// Version is the version the write creates (delete: the last one).
	Version int64
	// Changed lists the attribute paths the write changed ("active",
	// "name.givenName", "urn:…:enterprise:2.0:User:manager"); After hooks only.
	Changed []string
}

// MemberChange is one change to a group's membership: the ids added and
// removed, never the whole member list (a group may have 100,000 members).
type MemberChange struct {
	// Tx is the write transaction (BeforeMembersChange only).
	Tx      bun.Tx
	Tenant  string
	GroupID string
	Added   []Member
	Removed []string
}

// Member is a member id with its resource type ("User", "Group").
type Member struct {
	ID   string
	Type string
}

// Hooks is what an application implements to add behaviour around writes.
// Generated code declares a named interface with the same methods per
// resource type (e.g. resource.UserHooks) and a no-op implementation to
// embed; see Write for when each runs and what it may do.
type Hooks[T any] interface {
	BeforeCreate(ctx context.Context, w *Write[T]) error
	AfterCreate(ctx context.Context, w *Write[T]) error
	BeforeReplace(ctx context.Context, w *Write[T]) error
	AfterReplace(ctx context.Context, w *Write[T]) error
	BeforePatch(ctx context.Context, w *Write[T]) error
	AfterPatch(ctx context.Context, w *Write[T]) error
	BeforeDelete(ctx context.Context, w *Write[T]) error
	AfterDelete(ctx context.Context, w *Write[T]) error
}

// MembershipHooks is implemented by the hooks of the group resource type.
// BeforeMembersChange runs inside the transaction that changed the member
// rows (add, remove, replace, a group created with members or deleted, a
// member deleted), after the rows changed: it may write the application's
// own rows through Tx, or reject the change (same error rules as Write's
// Before hooks). AfterMembersChange runs after the commit. Neither runs
// when a request changes no membership row (adding a member twice).
type MembershipHooks interface {
	BeforeMembersChange(ctx context.Context, c *MemberChange) error
	AfterMembersChange(ctx context.Context, c *MemberChange) error
}

// Change is one committed change, as the change feed records it.
type Change struct {
	ResourceType   string
	ID             string
	Op             string // "create", "replace", "patch" or "delete"
	Version        int64
	Changed        []string
	MembersAdded   []string
	MembersRemoved []string
	Time           time.Time
}

// Recorder appends changes to the change feed. Record runs inside the
// write transaction, as its last statement, so a change is recorded if and
// only if it commits; Committed runs after the commit (to wake readers).
type Recorder interface {
	Record(ctx context.Context, tx bun.Tx, changes []*Change) error
	Committed(ctx context.Context)
}

// Env is what every resource type's service of one server shares: the
// store, the logger, the change feed, and the membership hooks (a user's
// delete changes the groups it was in, whose hooks the user's service must
// call).
type Env struct {
	DB  *sqlstore.DB
	Log *slog.Logger
	// Feed records every committed write; nil records nothing.
	Feed Recorder
	// Limits bound what requests may store or ask for (zero: defaults).
	Limits Limits

	mu          sync.RWMutex
	memberHooks map[string]MembershipHooks // by membership table
}

func (e *Env) setMemberHooks(table string, h MembershipHooks) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.memberHooks == nil {
		e.memberHooks = map[string]MembershipHooks{}
	}
	e.memberHooks[table] = h
}

func (e *Env) memberHooksOf(table string) MembershipHooks {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.memberHooks[table]
}

// record appends changes in tx when a feed is configured.
func (e *Env) record(ctx context.Context, tx bun.Tx, changes ...*Change) error {
	if e.Feed == nil || len(changes) == 0 {
		return nil
	}
	return e.Feed.Record(ctx, tx, changes)
}

func (e *Env) committed(ctx context.Context) {
	if e.Feed != nil {
		e.Feed.Committed(ctx)
	}
}
