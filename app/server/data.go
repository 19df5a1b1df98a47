package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/scimforge/scimforge/app/admin"
	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// Data runs the data commands (scimforge reindex, scimforge backup) on an
// open store: the server's, through its admin socket, or the one the
// command line opened.
type Data struct {
	db  *sqlstore.DB
	api *api.Server
}

var _ admin.Data = (*Data)(nil)

// NewData returns the data commands over db. Its services have no
// application hooks: reindexing rewrites stored resources without changing
// them, which is nothing a hook is told about.
func NewData(db *sqlstore.DB, log *slog.Logger) (*Data, error) {
	srv, err := api.NewServer(&engine.Env{DB: db, Log: log}, api.Hooks{})
	if err != nil {
		return nil, err
	}
	return &Data{db: db, api: srv}, nil
}

// Reindex reindexes every resource type, one transaction each, in the
// order of /ResourceTypes.
func (d *Data) Reindex(ctx context.Context, check bool) ([]*engine.ReindexReport, error) {
	var out []*engine.ReindexReport
	var done []string
	for _, ep := range d.api.Endpoints() {
		r, ok := ep.(engine.Reindexer)
		if !ok {
			return nil, fmt.Errorf("resource type %s has no reindex", ep.Type().Name)
		}
		rep, err := r.Reindex(ctx, check)
		if err != nil {
			if len(done) > 0 && !check {
				return nil, fmt.Errorf("%w (%s were reindexed before it; run the command again once this is fixed)", err, strings.Join(done, ", "))
			}
			return nil, err
		}
		if len(rep.Duplicates) == 0 {
			done = append(done, rep.Type)
		}
		out = append(out, rep)
	}
	return out, nil
}

// Backup writes a consistent copy of the SQLite store to path.
func (d *Data) Backup(ctx context.Context, path string, force bool) (sqlstore.BackupInfo, error) {
	return d.db.Backup(ctx, path, force)
}
