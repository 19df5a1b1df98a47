// Package credential stores tenants and their bearer tokens, hashed, in
// the server's database (SQLite or PostgreSQL, through bun), and
// authenticates presented tokens with a short in-memory cache.
//
// A token looks like "sfg_acme_<43 characters>": a fixed prefix that
// secret scanners can recognise, the tenant it opens, and the base64url
// form of 32 random bytes. Only the SHA-256 of the whole token is stored;
// the token is shown once, when it is created. A SHA-256 is enough (no
// bcrypt): the secret has 256 random bits, so there is nothing to guess.
package credential

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/scimforge/scimforge/scim/tenant"
)

// Migrations holds the tables of this package, one folder per dialect
// (migrations/sqlite, migrations/postgres), as bun SQL migrations.
//
//go:embed migrations
var Migrations embed.FS

// MigrationsTable is the bun migrations table Migrate records them in.
const MigrationsTable = "scimforge_core_migrations"

// Migrate applies Migrations for dialect ("sqlite" or "postgres") to db.
func Migrate(ctx context.Context, db *bun.DB, dialect string) error {
	sub, err := fs.Sub(Migrations, "migrations/"+dialect)
	if err != nil {
		return err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return fmt.Errorf("credential migrations: %w", err)
	}
	if len(ms.Sorted()) == 0 {
		return fmt.Errorf("credential migrations: none for dialect %q", dialect)
	}
	m := migrate.NewMigrator(db, ms,
		migrate.WithTableName(MigrationsTable),
		migrate.WithLocksTableName(MigrationsTable+"_locks"),
		migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("credential migrations: %w", err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("credential migrations: %w", err)
	}
	return nil
}

// Errors callers tell apart (compare with errors.Is).
var (
	ErrTenantExists = errors.New("tenant already exists")
	ErrNoTenant     = errors.New("no such tenant")
	ErrNoToken      = errors.New("no such token")
)

// DefaultTTL is how long Authenticate trusts what it read: a revoked token
// stops working within this time on every instance.
const DefaultTTL = 5 * time.Second

// lastUsedEvery is how often a token's last_used is written at most.
const lastUsedEvery = time.Minute

// maxCached bounds the cache: a client sending random tokens must not
// grow it without limit.
const maxCached = 10000

// TimeFormat is how times are stored: UTC, fixed width, text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// Store is the tenants and tokens of one database. It is safe for
// concurrent use.
type Store struct {
	db  *bun.DB
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	cache   map[string]cached        // token hash -> what the database said
	touched map[string]time.Time     // tenant/id -> when last_used was last written
	issuers map[string]cachedIssuers // tenant -> its OAuth issuers (TenantIssuers)
}

type cached struct {
	tenant, id string
	ok         bool
	until      time.Time
}

// New returns the store over db, whose tables Migrate created.
func New(db *bun.DB) *Store {
	return &Store{db: db, ttl: DefaultTTL, now: time.Now, cache: map[string]cached{}, touched: map[string]time.Time{}, issuers: map[string]cachedIssuers{}}
}

// SetCacheTTL sets how long Authenticate and TenantIssuers trust a result
// (0: they read the database every time). Call it before the store is used.
func (s *Store) SetCacheTTL(d time.Duration) { s.ttl = d }

type tenantRow struct {
	bun.BaseModel `bun:"table:scimforge_tenants"`
	TenantID      string `bun:"tenant_id,pk"`
	Created       string `bun:"created"`
}

type tokenRow struct {
	bun.BaseModel `bun:"table:scimforge_tokens"`
	TenantID      string  `bun:"tenant_id,pk"`
	ID            string  `bun:"id,pk"`
	Hash          string  `bun:"hash"`
	Label         *string `bun:"label"`
	Created       string  `bun:"created"`
	LastUsed      *string `bun:"last_used"`
	Revoked       *string `bun:"revoked"`
}

// Tenant is a stored tenant.
type Tenant struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// TokenInfo is what may be shown of a token: everything but the secret.
type TokenInfo struct {
	Tenant   string     `json:"tenant"`
	ID       string     `json:"id"`
	Label    string     `json:"label,omitempty"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"lastUsed,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

func (s *Store) stamp() string { return s.now().UTC().Format(TimeFormat) }

func parseTime(v string) time.Time {
	t, _ := time.Parse(TimeFormat, v)
	return t
}

func parseOptTime(v *string) *time.Time {
	if v == nil {
		return nil
	}
	t := parseTime(*v)
	return &t
}

// AddTenant creates tenant name; ErrTenantExists if it exists.
func (s *Store) AddTenant(ctx context.Context, name string) error {
	added, err := s.insertTenant(ctx, name)
	if err == nil && !added {
		return fmt.Errorf("tenant %q: %w", name, ErrTenantExists)
	}
	return err
}

// EnsureTenant creates tenant name unless it exists (the server ensures
// tenant.Default at start).
func (s *Store) EnsureTenant(ctx context.Context, name string) error {
	_, err := s.insertTenant(ctx, name)
	return err
}

func (s *Store) insertTenant(ctx context.Context, name string) (bool, error) {
	if err := tenant.Valid(name); err != nil {
		return false, err
	}
	res, err := s.db.NewInsert().Model(&tenantRow{TenantID: name, Created: s.stamp()}).
		On("CONFLICT (tenant_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("add tenant %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HasTenant reports whether tenant name exists.
func (s *Store) HasTenant(ctx context.Context, name string) (bool, error) {
	return hasTenant(ctx, s.db, name)
}

func hasTenant(ctx context.Context, db bun.IDB, name string) (bool, error) {
	return db.NewSelect().Model((*tenantRow)(nil)).Where("tenant_id = ?", name).Exists(ctx)
}

// Tenants lists the tenants by name.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	var rows []tenantRow
	if err := s.db.NewSelect().Model(&rows).Order("tenant_id").Scan(ctx); err != nil {
		return nil, err
	}
	out := make([]Tenant, len(rows))
	for i, r := range rows {
		out[i] = Tenant{Name: r.TenantID, Created: parseTime(r.Created)}
	}
	return out, nil
}

// RemoveTenant deletes tenant name, its tokens and its OAuth issuers in one transaction, after
// purge (if not nil) has deleted the tenant's other data in that same
// transaction: either all of the tenant goes or nothing does. The default
// tenant cannot be removed (the server recreates it at every start).
func (s *Store) RemoveTenant(ctx context.Context, name string, purge func(ctx context.Context, tx bun.Tx) error) error {
	if name == tenant.Default {
		return fmt.Errorf("tenant %q cannot be removed: it is the single-tenant deployment's tenant", name)
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := hasTenant(ctx, tx, name)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("tenant %q: %w", name, ErrNoTenant)
		}
		if purge != nil {
			if err := purge(ctx, tx); err != nil {
				return fmt.Errorf("remove tenant %q: %w", name, err)
			}
		}
		if _, err := tx.NewDelete().Model((*tokenRow)(nil)).Where("tenant_id = ?", name).Exec(ctx); err != nil {
			return err
		}
		// Explicitly, as for tokens: the foreign key's cascade is not
		// relied on (SQLite enforces it only with foreign_keys on).
		if _, err := tx.NewDelete().Model((*issuerRow)(nil)).Where("tenant_id = ?", name).Exec(ctx); err != nil {
			return err
		}
		_, err = tx.NewDelete().Model((*tenantRow)(nil)).Where("tenant_id = ?", name).Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	s.forget(func(c cached) bool { return c.tenant == name })
	s.forgetIssuers(name)
	return nil
}

// Prefix starts every token.
const Prefix = "sfg_"

// secretLen is the length of the base64url form of 32 bytes.
const secretLen = 43

// CreateToken creates a token for tenant with a label for people (may be
// empty). It returns the token, which exists nowhere else: the store keeps
// only its hash.
func (s *Store) CreateToken(ctx context.Context, tenantName, label string) (string, TokenInfo, error) {
	var secret [32]byte
	var id [8]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", TokenInfo{}, err
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", TokenInfo{}, err
	}
	token := Prefix + tenantName + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	row := &tokenRow{TenantID: tenantName, ID: hex.EncodeToString(id[:]), Hash: hashOf(token), Created: s.stamp()}
	if label != "" {
		row.Label = &label
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := hasTenant(ctx, tx, tenantName)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("tenant %q: %w", tenantName, ErrNoTenant)
		}
		_, err = tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return token, row.info(), nil
}

func (r *tokenRow) info() TokenInfo {
	i := TokenInfo{Tenant: r.TenantID, ID: r.ID, Created: parseTime(r.Created), LastUsed: parseOptTime(r.LastUsed), Revoked: parseOptTime(r.Revoked)}
	if r.Label != nil {
		i.Label = *r.Label
	}
	return i
}

// Tokens lists tenant's tokens, revoked ones included, oldest first.
func (s *Store) Tokens(ctx context.Context, tenantName string) ([]TokenInfo, error) {
	ok, err := s.HasTenant(ctx, tenantName)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("tenant %q: %w", tenantName, ErrNoTenant)
	}
	var rows []tokenRow
	if err := s.db.NewSelect().Model(&rows).
		Column("tenant_id", "id", "label", "created", "last_used", "revoked").
		Where("tenant_id = ?", tenantName).Order("created", "id").Scan(ctx); err != nil {
		return nil, err
	}
	out := make([]TokenInfo, len(rows))
	for i := range rows {
		out[i] = rows[i].info()
	}
	return out, nil
}

// HasActiveTokens reports whether tenant has a token that is not revoked.
func (s *Store) HasActiveTokens(ctx context.Context, tenantName string) (bool, error) {
	return s.db.NewSelect().Model((*tokenRow)(nil)).
		Where("tenant_id = ?", tenantName).Where("revoked IS NULL").Exists(ctx)
}

// RevokeToken revokes tenant's token id; revoking a revoked token changes
// nothing. This process stops accepting it at once, other instances within
// the cache TTL.
func (s *Store) RevokeToken(ctx context.Context, tenantName, id string) error {
	res, err := s.db.NewUpdate().Model((*tokenRow)(nil)).Set("revoked = ?", s.stamp()).
		Where("tenant_id = ?", tenantName).Where("id = ?", id).Where("revoked IS NULL").Exec(ctx)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		exists, err := s.db.NewSelect().Model((*tokenRow)(nil)).
			Where("tenant_id = ?", tenantName).Where("id = ?", id).Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("token %q of tenant %q: %w", id, tenantName, ErrNoToken)
		}
	}
	s.forget(func(c cached) bool { return c.tenant == tenantName && c.id == id })
	return nil
}

func hashOf(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TenantOf returns the tenant a token names, or false when presented does
// not have the shape of a token.
func TenantOf(presented string) (string, bool) {
	rest, ok := strings.CutPrefix(presented, Prefix)
	if !ok {
		return "", false
	}
	// Tenant names have no '_'; the secret may.
	name, secret, ok := strings.Cut(rest, "_")
	if !ok || len(secret) != secretLen || tenant.Valid(name) != nil {
		return "", false
	}
	return name, true
}

// Authenticate returns the tenant and token id of a presented token, or ok
// false when it is not a live token. Results (both answers) are cached for
// the TTL, so a request normally costs no database read; a token's
// last_used is written at most once a minute.
func (s *Store) Authenticate(ctx context.Context, presented string) (tenantName, tokenID string, ok bool, err error) {
	name, shaped := TenantOf(presented)
	if !shaped {
		return "", "", false, nil
	}
	h := hashOf(presented)
	now := s.now()
	s.mu.Lock()
	c, hit := s.cache[h]
	s.mu.Unlock()
	if !hit || !now.Before(c.until) {
		c, err = s.lookup(ctx, name, h)
		if err != nil {
			return "", "", false, err
		}
		c.until = now.Add(s.ttl)
		if s.ttl > 0 {
			s.remember(h, c, now)
		}
	}
	if !c.ok {
		return "", "", false, nil
	}
	s.touch(ctx, c, now)
	return c.tenant, c.id, true, nil
}

func (s *Store) lookup(ctx context.Context, name, h string) (cached, error) {
	var row tokenRow
	err := s.db.NewSelect().Model(&row).Column("tenant_id", "id", "hash", "revoked").
		Where("tenant_id = ?", name).Where("hash = ?", h).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return cached{}, nil
	}
	if err != nil {
		return cached{}, fmt.Errorf("authenticate: %w", err)
	}
	// The WHERE already matched the hash; compare again in constant time
	// so that no code path depends on a variable-time comparison of it.
	ok := subtle.ConstantTimeCompare([]byte(row.Hash), []byte(h)) == 1 && row.Revoked == nil
	return cached{tenant: row.TenantID, id: row.ID, ok: ok}, nil
}

func (s *Store) remember(h string, c cached, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= maxCached {
		for k, v := range s.cache {
			if !now.Before(v.until) {
				delete(s.cache, k)
			}
		}
		if len(s.cache) >= maxCached {
			clear(s.cache)
		}
	}
	s.cache[h] = c
}

// forget drops cached results that match, after a revocation.
func (s *Store) forget(match func(cached) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.cache {
		if match(v) {
			delete(s.cache, k)
		}
	}
}

// touch writes last_used when this process has not written it for the
// token in the last minute. The WHERE keeps several instances from each
// writing it. A failed write is not an authentication failure.
func (s *Store) touch(ctx context.Context, c cached, now time.Time) {
	key := c.tenant + "/" + c.id
	s.mu.Lock()
	last, seen := s.touched[key]
	due := !seen || now.Sub(last) >= lastUsedEvery
	if due {
		if len(s.touched) >= maxCached {
			clear(s.touched)
		}
		s.touched[key] = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	stamp := now.UTC().Format(TimeFormat)
	_, _ = s.db.NewUpdate().Model((*tokenRow)(nil)).Set("last_used = ?", stamp).
		Where("tenant_id = ?", c.tenant).Where("id = ?", c.id).
		Where("(last_used IS NULL OR last_used < ?)", now.Add(-lastUsedEvery).UTC().Format(TimeFormat)).
		Exec(context.WithoutCancel(ctx))
}
