// Package server wires the SCIM server together: store, generated API,
// application hooks and HTTP middleware. It is the one place an application
// changes to add behaviour (hooks) or HTTP concerns (middleware).
package server

import (
	"context"
	"errors"
	history "github.com/scimforge/scimforge/migrations"
	"github.com/uptrace/bun"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/scimforge/scimforge/app/admin"
	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/app/hooks"
	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/generated/store"
	"github.com/scimforge/scimforge/scim/bulk"
	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/oauth"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
	"github.com/scimforge/scimforge/scim/web"
)

// Server is a running SCIM service provider.
type Server struct {
	HTTP  *http.Server
	DB    *sqlstore.DB
	Creds *credential.Store
	// Admin serves scimforge tenant/token commands for a SQLite database
	// this server holds (nil otherwise).
	Admin *admin.Listener
	// Feed is the change feed (scim/feed); its retention and webhook
	// delivery run until Close.
	Feed     *feed.Feed
	stopFeed func()
	// Ops holds the limits, metrics and draining state (ops.go).
	Ops *Ops
}

// PurgeTenant deletes a tenant's SCIM resources and its change feed when
// the tenant is removed (scimforge tenant remove), in the transaction that
// removes its tokens.
var PurgeTenant admin.Purge = func(ctx context.Context, tx bun.Tx, name string) error {
	if err := sqlstore.PurgeTenant(ctx, tx, store.Tables, name); err != nil {
		return err
	}
	if err := feed.PurgeTenant(ctx, tx, name); err != nil {
		return err
	}
	return hooks.PurgeTenant(ctx, tx, name)
}

// Close stops the change feed's background work and the admin socket, and
// closes the database.
func (s *Server) Close() error {
	var err error
	if s.stopFeed != nil {
		s.stopFeed()
	}
	if s.Admin != nil {
		err = s.Admin.Close()
	}
	return errors.Join(err, s.DB.Close())
}

// Open opens the database the way both the server and the command line
// tools need it: migrations applied (the SCIM schema and the credential
// tables, and the change feed's) and the default tenant present.
func Open(ctx context.Context, databaseURL string, opt sqlstore.Options) (*sqlstore.DB, *credential.Store, error) {
	extra, err := extraMigrations()
	if err != nil {
		return nil, nil, err
	}
	opt.Extra = append(opt.Extra, extra...)
	db, err := sqlstore.Open(ctx, databaseURL, history.FS, opt)
	if err != nil {
		return nil, nil, err
	}
	return finishOpen(ctx, db)
}

// extraMigrations are the histories applied beside the schema's: the
// credential tables and the application's own (app/hooks/migrations).
func extraMigrations() ([]sqlstore.MigrationSet, error) {
	credTree, err := fs.Sub(credential.Migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return []sqlstore.MigrationSet{{Table: credential.MigrationsTable, FS: credTree}, feed.MigrationSet(), hooks.Migrations()}, nil
}

// finishOpen makes sure the default tenant exists.
func finishOpen(ctx context.Context, db *sqlstore.DB) (*sqlstore.DB, *credential.Store, error) {
	creds := credential.New(db.Write)
	if err := creds.EnsureTenant(ctx, tenant.Default); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, creds, nil
}

// New opens the database (applying migrations) and builds the HTTP server.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	db, creds, err := Open(ctx, cfg.DatabaseURL, sqlstore.Options{CacheBytes: cfg.RowCache, NoCache: cfg.RowCache == 0, Shared: cfg.SQLiteShared})
	if err != nil {
		return nil, err
	}
	if err := checkAuth(ctx, cfg, creds, log); err != nil {
		db.Close()
		return nil, err
	}
	verifier, err := newOAuth(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	ops := NewOps(cfg, db, log)
	h, err := HandlerWith(cfg, db, creds, log, Parts{Ops: ops, OAuth: verifier})
	if err != nil {
		db.Close()
		return nil, err
	}
	var ready []func(context.Context) error
	if verifier != nil {
		ready = append(ready, func(ctx context.Context) error {
			// The probe is public: why the keys are missing goes to the log
			// (each failed fetch is logged), not into the answer.
			if verifier.Ready(ctx) != nil {
				return errors.New("the OAuth signing keys are not loaded")
			}
			return nil
		})
	}
	events := NewFeed(cfg, db)
	var adm *admin.Listener
	if loc, err := sqlstore.ParseURL(cfg.DatabaseURL); err == nil && loc.Driver == "sqlite" {
		data, err := NewData(db, log)
		if err != nil {
			db.Close()
			return nil, err
		}
		// Without the socket the tenant, token and data commands cannot
		// reach a running server; it is not a reason to refuse to serve.
		if adm, err = admin.Listen(admin.SocketPath(loc.Path), admin.Backend{
			Creds: creds,
			Purge: func(ctx context.Context, tx bun.Tx, name string) error {
				// The row cache may hold the removed tenant's rows; a tenant
				// added later under the same name must not see them.
				defer func() {
					for _, t := range store.Tables {
						db.Cache.InvalidateTable(t)
					}
				}()
				return PurgeTenant(ctx, tx, name)
			},
			Data:   data,
			Events: events,
		}, log); err != nil {
			log.Warn("tenant, token, reindex and backup commands will need the server stopped", "err", err)
		}
	}
	return &Server{
		DB:       db,
		Creds:    creds,
		Admin:    adm,
		Feed:     events,
		stopFeed: startFeed(cfg, events, log),
		Ops:      ops,
		HTTP: &http.Server{
			Addr:              cfg.Listen,
			Handler:           ops.serveOps(withHealth(h, db, ops.Draining, ready...)),
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      cfg.WriteTimeout, // Azure AD and Okta give up after 60 s
			IdleTimeout:       cfg.IdleTimeout,
		},
	}, nil
}

// tenancy is cfg's tenancy; the zero Config (tests) is single-tenant.
func tenancy(cfg *config.Config) web.Tenancy {
	if cfg.Tenancy == "" {
		return web.TenancyNone
	}
	return cfg.Tenancy
}

// checkAuth refuses to start when no request could authenticate, and
// warns about SCIMFORGE_TOKEN where it does not apply.
func checkAuth(ctx context.Context, cfg *config.Config, creds *credential.Store, log *slog.Logger) error {
	if tenancy(cfg) != web.TenancyNone {
		if cfg.Token != "" {
			log.Warn("SCIMFORGE_TOKEN is ignored with SCIMFORGE_TENANCY=" + string(cfg.Tenancy) + ": each tenant authenticates with its own tokens (scimforge token create --tenant NAME)")
		}
		return nil
	}
	if cfg.Token != "" || cfg.Auth.Has(config.SchemeOAuth) {
		return nil
	}
	has, err := creds.HasActiveTokens(ctx, tenant.Default)
	if err != nil {
		return err
	}
	if !has {
		return errors.New(config.NoTokenError)
	}
	return nil
}

// Handler returns the whole HTTP handler over an open store. creds holds
// the stored tokens; SCIMFORGE_TOKEN (cfg.Token) also opens the default
// tenant when cfg.Tenancy is none.
func Handler(cfg *config.Config, db *sqlstore.DB, creds *credential.Store, log *slog.Logger) (http.Handler, error) {
	return HandlerWith(cfg, db, creds, log, Parts{})
}

// Parts are the pieces of the server an application may supply itself.
type Parts struct {
	// Hooks are the resource types' hooks; nil: app/hooks (hooks.New).
	Hooks *api.Hooks
	// Feed records every committed write; nil: the change feed in the
	// database (see docs/events.md).
	Feed engine.Recorder
	// Ops are the limits and metrics around the handler; nil: the limits
	// of cfg without metrics.
	Ops *Ops
	// OAuth verifies JWT bearer tokens when cfg enables oauth; nil: one
	// is built from cfg (New passes its own, for /readyz).
	OAuth *oauth.Verifier
}

// HandlerWith is Handler with parts supplied by the application.
func HandlerWith(cfg *config.Config, db *sqlstore.DB, creds *credential.Store, log *slog.Logger, p Parts) (http.Handler, error) {
	hk := p.Hooks
	if hk == nil {
		all := hooks.New(hooks.Deps{Log: log, AllowedDomains: cfg.AllowedDomains})
		hk = &all
	}
	rec := p.Feed
	if rec == nil {
		rec = feedRecorder{dialect: db.Dialect}
	}
	srv, err := api.NewServer(&engine.Env{DB: db, Log: log, Feed: rec, Limits: engineLimits(cfg)}, *hk)
	if err != nil {
		return nil, err
	}
	if err := advertiseLimits(srv, cfg); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	strict := api.NewStrictHandlerWithOptions(srv, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  web.RequestError,
		ResponseErrorHandlerFunc: web.ResponseError(log),
	})
	api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseURL:          config.BasePath,
		BaseRouter:       mux,
		ErrorHandlerFunc: web.RequestError,
	})
	limits, err := routeBulk(mux, srv, log)
	if err != nil {
		return nil, err
	}
	endpoints, err := fallbacks(mux)
	if err != nil {
		return nil, err
	}
	ops := p.Ops
	if ops == nil {
		ops = NewOps(cfg, nil, log)
	}
	var h http.Handler = ops.afterAuth(strictAttributes(srv, cfg, mux))
	// Authentication (app/server/auth.go, docs/auth.md).
	if p.OAuth == nil {
		if p.OAuth, err = newOAuth(cfg, log); err != nil {
			return nil, err
		}
	}
	auth, err := authOptions(cfg, creds, p.OAuth, log)
	if err != nil {
		return nil, err
	}
	if err := srv.Discovery().EditServiceProviderConfig(setAuthenticationSchemes(cfg)); err != nil {
		return nil, err
	}
	h = web.Auth(auth, h)
	h = web.CanonicalPaths(config.BasePath, endpoints, aliases, web.Routes(mux, h))
	// The OpenAPI document is public (see openapi.go): before web.Auth.
	if h, err = serveSpec(config.BasePath, h, specSecurity(cfg)); err != nil {
		return nil, err
	}
	h = web.Edge(cfg.BaseURL, config.BasePath, log, h, append(bodyLimits(cfg), limits...)...)
	h = web.Tenants(tenancy(cfg), h)
	return ops.outer(log, h), nil
}

// aliases are endpoint names served beyond RFC 7644 (client quirks):
// Microsoft's SCIM reference collection reads the ServiceProviderConfig
// document as /serviceConfiguration. They are not in openapi.yaml; README
// lists them.
var aliases = map[string]string{"serviceConfiguration": "ServiceProviderConfig"}

// fallbacks answers unknown paths and unsupported methods with SCIM errors
// instead of net/http's text/plain ones. Method-less patterns are less
// specific than the generated "GET /path" ones, so they only catch what
// the API does not serve.
// It returns the endpoint names it routes.
func fallbacks(mux *http.ServeMux) ([]string, error) {
	set, err := discovery.Load()
	if err != nil {
		return nil, err
	}
	routes := map[string][]string{
		"/ServiceProviderConfig": {"GET"},
		"/Schemas":               {"GET"},
		"/Schemas/{id}":          {"GET"},
		"/ResourceTypes":         {"GET"},
		"/ResourceTypes/{name}":  {"GET"},
		"/.search":               {"POST"},
		"/Bulk":                  {"POST"},
	}
	// (No fallback for /Users/.search: a method-less pattern there would
	// conflict with "GET /Users/{id}"; GET /Users/.search is a 404.)
	for _, rt := range set.ResourceTypes {
		routes[rt.Endpoint] = []string{"GET", "POST"}
		routes[rt.Endpoint+"/{id}"] = []string{"GET", "PUT", "PATCH", "DELETE"}
	}
	var endpoints []string
	for path, methods := range routes {
		mux.Handle(config.BasePath+path, web.MethodNotAllowed(strings.Join(methods, ", ")))
		if !strings.Contains(path[1:], "/") {
			endpoints = append(endpoints, path[1:])
		}
	}
	mux.HandleFunc("/", web.NotFound)
	return endpoints, nil
}

// routeBulk adds POST /Bulk over every resource type's engine service, with
// the limits /ServiceProviderConfig advertises (as served: see
// advertiseLimits), and returns the edge's body limit for the route.
func routeBulk(mux *http.ServeMux, srv *api.Server, log *slog.Logger) ([]web.BodyLimit, error) {
	spc, err := srv.Discovery().ServiceProviderConfig("")
	if err != nil {
		return nil, err
	}
	supported, limits, err := bulk.Config(spc)
	if err != nil {
		return nil, err
	}
	route := config.BasePath + "/Bulk"
	if !supported {
		mux.HandleFunc("POST "+route, bulkUnsupported)
		return nil, nil
	}
	mux.Handle("POST "+route, bulkHandler(bulk.New(srv.Endpoints(), limits, log), log))
	return []web.BodyLimit{{Path: route, Bytes: limits.MaxPayloadSize}}, nil
}
