// Package hooks is where an application adds its own behaviour around SCIM
// writes without touching generated code: one file per resource type
// (user.go, group.go; make generate scaffolds the file of a resource type
// you add, once). Each file registers its hooks in init, so a new resource
// type needs no wiring anywhere else.
//
// The shipped hooks are examples of what every real deployment needs:
//   - user.go rejects users outside the allowed domains, revokes the
//     application's sessions of a user who is deactivated or deleted (in
//     the same transaction), and keeps an audit log without personal data;
//   - group.go keeps the application's own table of group memberships in
//     step with SCIM, in the same transaction as the membership change.
//
// docs/hooks.md is the contract: when each hook runs, what it may do, and
// what happens when it fails.
package hooks

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"

	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/uptrace/bun"
)

// Deps is what hooks may use. Add your application's services here.
type Deps struct {
	Log *slog.Logger
	// AllowedDomains, when not empty, lists the userName domains accepted
	// (SCIMFORGE_ALLOWED_DOMAINS; compared case-insensitively).
	AllowedDomains []string
}

var registry []func(Deps, *api.Hooks)

// register adds one resource type's hooks; each hooks file calls it in init.
func register(f func(Deps, *api.Hooks)) { registry = append(registry, f) }

// New returns the hooks of every resource type.
func New(d Deps) api.Hooks {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	var h api.Hooks
	for _, f := range registry {
		f(d, &h)
	}
	return h
}

//go:embed migrations
var migrations embed.FS

// MigrationsTable records which of Migrations were applied.
const MigrationsTable = "app_migrations"

// Migrations are the application's own tables (migrations/sqlite and
// migrations/postgres, bun SQL migrations), applied with SCIM's when the
// server opens the database. Add yours next to the example's.
func Migrations() sqlstore.MigrationSet {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded tree has the folder
	}
	return sqlstore.MigrationSet{Table: MigrationsTable, FS: sub}
}

// PurgeTenant deletes a removed tenant's rows from the application's
// tables (scimforge tenant remove), in the transaction that deletes its
// SCIM resources. List your tables keyed by tenant_id here.
func PurgeTenant(ctx context.Context, tx bun.Tx, tenant string) error {
	for _, table := range []string{"app_sessions", "app_group_members"} {
		if _, err := tx.NewDelete().Table(table).Where("tenant_id = ?", tenant).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
