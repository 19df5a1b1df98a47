package server

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"time"

	history "github.com/scimforge/scimforge/migrations"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// Options configure a SCIM service inside an existing application; see Embed.
type Options struct {
	// DB is the application's own database handle: SQLite through
	// modernc.org/sqlite (driver "sqlite"; the DSN must enable foreign keys
	// and a busy timeout, see sqlstore.OpenDB) or PostgreSQL through pgx's
	// stdlib driver. SCIM's tables are created in it by migration. It stays
	// the application's: Close does not close it.
	DB *sql.DB
	// Dialect is "sqlite" or "postgres".
	Dialect string
	// Logger receives SCIM's logs (access log included); nil: slog.Default().
	Logger *slog.Logger
	// Token, when set, is a bearer token that opens the default tenant, as
	// SCIMFORGE_TOKEN does. Tokens can also be created with Creds.
	Token string
	// Tenancy is "none" (default), "path" or "host", as SCIMFORGE_TENANCY.
	Tenancy web.Tenancy
	// BaseURL is the public URL of the SCIM base path (SCIMFORGE_BASE_URL);
	// empty: taken from each request.
	BaseURL string
	// Hooks replace app/hooks' (nil: hooks.New with AllowedDomains).
	Hooks          *api.Hooks
	AllowedDomains []string
	// Feed records every committed write (nil: the change feed in DB,
	// which SCIM.Feed reads).
	Feed engine.Recorder
	// EventsRetention is how long the change feed keeps events (0: 7 days,
	// as SCIMFORGE_EVENTS_RETENTION); events a durable cursor has not
	// passed are kept up to 30 days.
	EventsRetention time.Duration
	// WebhookURL and WebhookSecret deliver the change feed as signed POSTs
	// (as SCIMFORGE_WEBHOOK_URL and SCIMFORGE_WEBHOOK_SECRET).
	WebhookURL, WebhookSecret string
}

// SCIM is the whole SCIM server as an http.Handler an application mounts
// on its own mux under the base path:
//
//	scim, err := server.Embed(ctx, server.Options{DB: db, Dialect: "sqlite", Logger: log, Token: tok})
//	mux.Handle("/scim/v2/", scim)
//
// examples/embed is a complete application doing so.
type SCIM struct {
	http.Handler
	// DB is SCIM's store over the application's handle.
	DB *sqlstore.DB
	// Creds manages tenants and bearer tokens (CreateToken, RevokeToken…).
	Creds *credential.Store
	// Feed reads the change feed: Read, Wait, Follow, and Consume with a
	// durable cursor (docs/events.md).
	Feed *feed.Feed

	stopFeed func()
}

// Embed migrates the application's database for SCIM and returns the SCIM
// handler over it.
func Embed(ctx context.Context, opt Options) (*SCIM, error) {
	var dialect sqlfilter.Dialect
	switch opt.Dialect {
	case "sqlite":
		dialect = sqlfilter.SQLite
	case "postgres":
		dialect = sqlfilter.Postgres
	default:
		return nil, errors.New(`server.Embed: Options.Dialect must be "sqlite" or "postgres"`)
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	extra, err := extraMigrations()
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.OpenDB(ctx, opt.DB, dialect, history.FS, sqlstore.Options{Extra: extra})
	if err != nil {
		return nil, err
	}
	db, creds, err := finishOpen(ctx, db)
	if err != nil {
		return nil, err
	}
	tenancy := opt.Tenancy
	if tenancy == "" {
		tenancy = web.TenancyNone
	}
	retention := opt.EventsRetention
	if retention == 0 {
		retention = 7 * 24 * time.Hour
	}
	cfg := &config.Config{Token: opt.Token, Tenancy: tenancy, BaseURL: opt.BaseURL, AllowedDomains: opt.AllowedDomains,
		EventsRetention: retention, EventsMaxAge: max(retention, 30*24*time.Hour), WebhookURL: opt.WebhookURL, WebhookSecret: opt.WebhookSecret}
	if cfg.WebhookURL != "" && len(cfg.WebhookSecret) < 16 {
		db.Close()
		return nil, errors.New("server.Embed: WebhookSecret must be at least 16 characters when WebhookURL is set")
	}
	h, err := HandlerWith(cfg, db, creds, log, Parts{Hooks: opt.Hooks, Feed: opt.Feed})
	if err != nil {
		db.Close()
		return nil, err
	}
	events := NewFeed(cfg, db)
	return &SCIM{Handler: h, DB: db, Creds: creds, Feed: events, stopFeed: startFeed(cfg, events, log)}, nil
}

// Close stops SCIM's background work (retention, webhooks). The
// application's handle stays open.
func (s *SCIM) Close() error {
	s.stopFeed()
	return s.DB.Close()
}
