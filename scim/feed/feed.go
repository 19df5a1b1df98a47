// Package feed is the change feed: every committed write appends an Event
// in its own transaction (an outbox), and applications read the events at
// their own pace with a cursor, or receive them as signed webhooks.
//
// Ordering. Each tenant has its own sequence, seq = 1, 2, 3, … without gaps.
// On PostgreSQL, Append bumps the tenant's head row (scimforge_event_heads) with one
// INSERT … ON CONFLICT DO UPDATE … RETURNING inside the writing
// transaction, as the last statement before the commit. The row stays locked
// until that transaction ends (PostgreSQL; SQLite has one writer anyway), so
// a second writer of the same tenant gets the next seq only once the first
// has committed or rolled back: seq order is commit order, a rolled-back
// write leaves no gap, and a reader that has seen seq N and asks for
// seq > N can never miss an event that commits later. (A bigserial or an
// autoincrement column would be handed out in start order, not commit
// order, and leave gaps on rollback: a reader would skip events that
// commit late.) The cost is that the commits of one tenant's writes take
// turns on PostgreSQL for the time between Append and COMMIT; see
// docs/events.md for the measured figures. On SQLite, which has one writer,
// Append numbers after the highest stored seq instead (see appendSQLite).
//
// Retention. Prune deletes old events, but not those a durable cursor
// (Commit) has not passed yet, unless they are older than Feed.MaxAge.
// Because seqs are gapless, a reader that gets a first event with a seq
// higher than the one it asked after knows that events were pruned in
// between.
package feed

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// Event is one committed change of one resource.
type Event struct {
	Seq            int64     `json:"seq"`    // per tenant, gapless, commit order
	Tenant         string    `json:"tenant"` //
	ResourceType   string    `json:"resourceType"`
	ID             string    `json:"id"`
	Op             string    `json:"op"`                // OpCreate, OpReplace, OpPatch, OpDelete
	Version        int64     `json:"version"`           // the new version (delete: the last version)
	Changed        []string  `json:"changed,omitempty"` // attribute paths: "active", "name.givenName", "urn:…:User:manager"
	MembersAdded   []string  `json:"membersAdded,omitempty"`
	MembersRemoved []string  `json:"membersRemoved,omitempty"`
	Time           time.Time `json:"time"`
}

// Operations of an Event.
const (
	OpCreate  = "create"
	OpReplace = "replace"
	OpPatch   = "patch"
	OpDelete  = "delete"
)

// Migrations holds this package's tables, one folder per dialect
// (migrations/sqlite, migrations/postgres), as bun SQL migrations.
//
//go:embed migrations
var Migrations embed.FS

// MigrationsTable records which of Migrations ran.
const MigrationsTable = "scimforge_feed_migrations"

// MigrationSet is Migrations for sqlstore.Options.Extra.
func MigrationSet() sqlstore.MigrationSet {
	sub, err := fs.Sub(Migrations, "migrations")
	if err != nil {
		panic(err) // the folder is embedded: cannot happen
	}
	return sqlstore.MigrationSet{Table: MigrationsTable, FS: sub}
}

// insertRows bounds the rows of one INSERT, so that few texts are prepared.
const insertRows = 16

const headSQL = `INSERT INTO scimforge_event_heads (tenant_id, seq) VALUES (?, ?) ` +
	`ON CONFLICT (tenant_id) DO UPDATE SET seq = scimforge_event_heads.seq + excluded.seq RETURNING seq`

const insertHead = `INSERT INTO scimforge_events (tenant_id, seq, resource_type, resource_id, op, version, changed, members_added, members_removed, at) VALUES `

// insertTexts[n] inserts n rows (1 ≤ n ≤ insertRows).
var insertTexts = func() []string {
	out := make([]string, insertRows+1)
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for n := 1; n <= insertRows; n++ {
		out[n] = insertHead + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
	}
	return out
}()

// Append records evs in tx, the write's own transaction, and sets each
// ev.Seq (and ev.Time when it is zero). Call it as the last statement
// before the commit: on PostgreSQL it locks the tenant's head row until
// the transaction ends, so whatever runs after it prolongs the time other
// writers of the tenant wait. dialect is the store's (sqlstore.DB.Dialect).
//
// Events of several tenants may be given; their head rows are locked in
// name order, so that two such transactions cannot deadlock.
func Append(ctx context.Context, tx bun.IDB, dialect sqlfilter.Dialect, evs ...*Event) error {
	if len(evs) == 0 {
		return nil
	}
	if dialect != sqlfilter.SQLite && dialect != sqlfilter.Postgres {
		return fmt.Errorf("feed: unknown dialect %v", dialect)
	}
	var tenants []string
	byTenant := map[string][]*Event{}
	now := time.Now()
	for _, ev := range evs {
		if err := ev.check(); err != nil {
			return err
		}
		if ev.Time.IsZero() {
			ev.Time = now
		}
		if _, ok := byTenant[ev.Tenant]; !ok {
			tenants = append(tenants, ev.Tenant)
		}
		byTenant[ev.Tenant] = append(byTenant[ev.Tenant], ev)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		var err error
		if dialect == sqlfilter.Postgres {
			err = appendPostgres(ctx, tx, t, byTenant[t])
		} else {
			err = appendSQLite(ctx, tx, t, byTenant[t])
		}
		if err != nil {
			return fmt.Errorf("feed: append to tenant %s: %w", t, err)
		}
	}
	return nil
}

// lastSeqSQL is a tenant's last seq on either engine: the highest stored
// event, or the head row (on SQLite raised only by Prune and tenant removal).
const lastSeqSQL = `SELECT COALESCE(MAX(s), 0) FROM (SELECT MAX(seq) AS s FROM scimforge_events WHERE tenant_id = ? ` +
	`UNION ALL SELECT seq FROM scimforge_event_heads WHERE tenant_id = ?) AS h`

// sqliteLastSQL is appendSQLite's read: the highest stored event and the
// head row (NULL when the tenant has none yet).
const sqliteLastSQL = `SELECT (SELECT MAX(seq) FROM scimforge_events WHERE tenant_id = ?), ` +
	`(SELECT seq FROM scimforge_event_heads WHERE tenant_id = ?)`

// appendSQLite numbers the events after the tenant's last one and inserts
// them. SQLite has one writer at a time, so reading the last seq is as
// safe as bumping a counter, and cheaper: measured, updating the head row
// in every write doubled the CPU of a PATCH, because group commit runs each
// write in a SAVEPOINT and every page a savepoint modifies is copied to its
// subjournal. The head row is written only by Prune.
func appendSQLite(ctx context.Context, tx bun.IDB, tenant string, group []*Event) error {
	var last, stored sql.NullInt64
	var row *sql.Row
	t, isTx := tx.(bun.Tx)
	if isTx {
		row = sqlstore.QueryRowTx(ctx, t, sqliteLastSQL, tenant, tenant) // prepared once
	} else {
		row = tx.QueryRowContext(ctx, sqliteLastSQL, tenant, tenant)
	}
	if err := row.Scan(&last, &stored); err != nil {
		return err
	}
	if !stored.Valid {
		// The tenant's first event: its head row lists it among the
		// tenants that have a feed (webhook delivery, cursors).
		if err := sqlstore.Exec(ctx, tx, `INSERT INTO scimforge_event_heads (tenant_id, seq) VALUES (?, 0)`, tenant); err != nil {
			return err
		}
	}
	head := max(last.Int64, stored.Int64) + int64(len(group))
	first := head - int64(len(group)) + 1
	for i, ev := range group {
		ev.Seq = first + int64(i)
	}
	for len(group) > 0 {
		n := min(len(group), insertRows)
		args := make([]any, 0, 10*n)
		for _, ev := range group[:n] {
			args = append(args, ev.Tenant, ev.Seq, ev.ResourceType, ev.ID, ev.Op, ev.Version,
				jsonList(ev.Changed), jsonList(ev.MembersAdded), jsonList(ev.MembersRemoved), sqlstore.FormatTime(ev.Time))
		}
		// Prepared once on SQLite inside sqlstore.RunInTx.
		if err := sqlstore.Exec(ctx, tx, insertTexts[n], args...); err != nil {
			return err
		}
		group = group[n:]
	}
	return nil
}

// appendPostgres bumps the head and inserts the rows in one statement: a
// round trip less, and the head row is locked for one round trip less
// before the commit (measured: see docs/events.md).
func appendPostgres(ctx context.Context, tx bun.IDB, tenant string, group []*Event) error {
	n := int64(len(group))
	var b strings.Builder
	b.WriteString(`WITH h AS (` + headSQL + `) INSERT INTO scimforge_events ` +
		`(tenant_id, seq, resource_type, resource_id, op, version, changed, members_added, members_removed, at) ` +
		`SELECT ?, h.seq - ? + v.k, v.rt, v.id, v.op, v.version, v.changed, v.added, v.removed, v.at FROM h, (VALUES `)
	args := make([]any, 0, 4+9*len(group))
	args = append(args, tenant, n, tenant, n)
	for i, ev := range group {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?::bigint, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::text)")
		args = append(args, i+1, ev.ResourceType, ev.ID, ev.Op, ev.Version,
			jsonList(ev.Changed), jsonList(ev.MembersAdded), jsonList(ev.MembersRemoved), sqlstore.FormatTime(ev.Time))
	}
	b.WriteString(`) AS v (k, rt, id, op, version, changed, added, removed, at) RETURNING seq`)
	var rows *sql.Rows
	var err error
	if t, ok := tx.(bun.Tx); ok {
		// Bound parameters: pgx prepares and caches the text per connection
		// (bun would render the values into a new text each time).
		rows, err = sqlstore.QueryTx(ctx, t, b.String(), args...)
	} else {
		rows, err = tx.QueryContext(ctx, b.String(), args...) // bun renders the values into the text
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	var head int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return err
		}
		head = max(head, seq)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if head < n {
		return fmt.Errorf("inserted up to seq %d for %d events", head, n)
	}
	for i, ev := range group {
		ev.Seq = head - n + int64(i) + 1
	}
	return nil
}

func (ev *Event) check() error {
	switch {
	case ev == nil:
		return errors.New("feed: nil event")
	case ev.Tenant == "":
		return errors.New("feed: event without a tenant")
	case ev.ResourceType == "" || ev.ID == "":
		return fmt.Errorf("feed: event without a resource type or id: %+v", *ev)
	}
	switch ev.Op {
	case OpCreate, OpReplace, OpPatch, OpDelete:
		return nil
	}
	return fmt.Errorf("feed: event op %q: want create, replace, patch or delete", ev.Op)
}

// jsonList is a list column's value: a JSON array, or NULL when empty.
func jsonList(l []string) any {
	if len(l) == 0 {
		return nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		panic(err) // strings always marshal
	}
	return string(b)
}

func parseList(s sql.NullString) ([]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var l []string
	err := json.Unmarshal([]byte(s.String), &l)
	return l, err
}

// MaxRead bounds the events one Read returns.
const MaxRead = 10000

// Read returns up to limit events of tenant with seq > after, in seq order
// (limit ≤ 0 or above MaxRead: MaxRead). db is the store's bun.DB (or a
// transaction).
//
// Seqs are gapless: if the first event's seq is above after+1, the events
// in between were pruned (see Prune) before they were read.
func Read(ctx context.Context, db bun.IDB, tenant string, after int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > MaxRead {
		limit = MaxRead
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, resource_type, resource_id, op, version, changed, members_added, members_removed, at `+
		`FROM scimforge_events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenant, after, limit)
	if err != nil {
		return nil, fmt.Errorf("feed: read: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev := Event{Tenant: tenant}
		var changed, added, removed sql.NullString
		var at string
		if err := rows.Scan(&ev.Seq, &ev.ResourceType, &ev.ID, &ev.Op, &ev.Version, &changed, &added, &removed, &at); err != nil {
			return nil, fmt.Errorf("feed: read: %w", err)
		}
		if ev.Changed, err = parseList(changed); err == nil {
			if ev.MembersAdded, err = parseList(added); err == nil {
				ev.MembersRemoved, err = parseList(removed)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("feed: event %s/%d: %w", tenant, ev.Seq, err)
		}
		if ev.Time, err = sqlstore.ParseTime(at); err != nil {
			return nil, fmt.Errorf("feed: event %s/%d: %w", tenant, ev.Seq, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Head returns the seq of tenant's last event (0: none yet).
func Head(ctx context.Context, db bun.IDB, tenant string) (int64, error) {
	var seq int64
	// The SQLite head row only moves at Prune (see appendSQLite); on
	// PostgreSQL it is always the highest seq, so the query is right for both.
	err := db.QueryRowContext(ctx, lastSeqSQL, tenant, tenant).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// Feed reads one store's events: Read, Wait and Follow, the durable
// cursors, retention (Prune) and webhook delivery (Deliver).
type Feed struct {
	db      *bun.DB
	dialect sqlfilter.Dialect

	// PollInterval is how often Wait looks for events another process
	// committed (an in-process write wakes it at once through Notify).
	// Default DefaultPollInterval.
	PollInterval time.Duration
	// MaxAge is how long Prune keeps an event that a durable cursor has
	// not passed yet; 0 keeps it until the cursor passes it.
	MaxAge time.Duration

	now func() time.Time
}

// DefaultPollInterval is Feed.PollInterval's default.
const DefaultPollInterval = time.Second

// New returns the feed of the store db (sqlstore.DB.Write and .Dialect),
// whose migrations include MigrationSet.
func New(db *bun.DB, dialect sqlfilter.Dialect) *Feed {
	return &Feed{db: db, dialect: dialect, PollInterval: DefaultPollInterval, now: time.Now}
}

// Read is the package's Read on f's store.
func (f *Feed) Read(ctx context.Context, tenant string, after int64, limit int) ([]Event, error) {
	return Read(ctx, f.db, tenant, after, limit)
}

// Head is the package's Head on f's store.
func (f *Feed) Head(ctx context.Context, tenant string) (int64, error) {
	return Head(ctx, f.db, tenant)
}

// The in-process wake-up: Notify closes the current channel, which every
// waiter took before it last read, and a fresh one is made on demand.
var wake struct {
	mu sync.Mutex
	ch chan struct{}
}

// Notify wakes every Wait, Follow and Deliver of this process: call it after
// a transaction that appended events has committed. Without it they notice
// within their PollInterval.
func Notify() {
	wake.mu.Lock()
	if wake.ch != nil {
		close(wake.ch)
		wake.ch = nil
	}
	wake.mu.Unlock()
}

// Notify is the package's Notify.
func (f *Feed) Notify() { Notify() }

// woken returns a channel closed by the next Notify. Take it before reading,
// so that a commit between the read and the wait is not missed.
func woken() <-chan struct{} {
	wake.mu.Lock()
	defer wake.mu.Unlock()
	if wake.ch == nil {
		wake.ch = make(chan struct{})
	}
	return wake.ch
}

func (f *Feed) poll() time.Duration {
	if f.PollInterval > 0 {
		return f.PollInterval
	}
	return DefaultPollInterval
}

// Wait returns up to limit events of tenant after seq after, waiting until
// there is at least one. It returns ctx's error when ctx ends first.
func (f *Feed) Wait(ctx context.Context, tenant string, after int64, limit int) ([]Event, error) {
	t := time.NewTimer(f.poll())
	defer t.Stop()
	for {
		ch := woken()
		evs, err := f.Read(ctx, tenant, after, limit)
		if err != nil || len(evs) > 0 {
			return evs, err
		}
		t.Reset(f.poll())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		case <-t.C:
		}
	}
}

// Follow calls fn with each batch (up to limit events) of tenant's events
// after seq after, in order, until ctx ends (it then returns ctx's error)
// or fn fails (it returns fn's error).
func (f *Feed) Follow(ctx context.Context, tenant string, after int64, limit int, fn func(context.Context, []Event) error) error {
	for {
		evs, err := f.Wait(ctx, tenant, after, limit)
		if err != nil {
			return err
		}
		if err := fn(ctx, evs); err != nil {
			return err
		}
		after = evs[len(evs)-1].Seq
	}
}

// Consume is Follow from the durable cursor name: each batch fn handles
// without error moves the cursor past it. After a crash or restart fn is
// given again what it was handling when it stopped, so it must tolerate
// seeing a batch twice (skip events whose seq is not above the last one it
// applied). fn runs outside any transaction; to make a batch and the
// cursor one atomic step, write your rows and call Commit in one
// transaction of your own instead.
func (f *Feed) Consume(ctx context.Context, name, tenant string, limit int, fn func(context.Context, []Event) error) error {
	after, err := f.Cursor(ctx, name, tenant)
	if err != nil {
		return err
	}
	return f.Follow(ctx, tenant, after, limit, func(ctx context.Context, evs []Event) error {
		if err := fn(ctx, evs); err != nil {
			return err
		}
		return f.Commit(ctx, name, tenant, evs[len(evs)-1].Seq)
	})
}
