// Package admin manages tenants, their tokens and OAuth issuers for the
// command line (scimforge tenant …, scimforge token …), while the server
// runs.
//
// With PostgreSQL the commands use the database directly. A SQLite file is
// held exclusively by a running server (a flock on PATH.lock and SQLite's
// exclusive locking mode), so the server listens on a unix socket next to
// it, PATH.admin.sock (mode 0600: only the user running the server, or
// root, can connect), and runs the commands it receives through its own
// credential.Store; the command line tries that socket first and opens the
// file itself only when no server answers. One connection carries one
// JSON Request and one JSON Response.
//
// The data commands (scimforge reindex, scimforge backup) take the same
// path: a running SQLite server rewrites its rows or writes the backup
// itself, through the Data it was given. So does scimforge events: the
// server reads its change feed, and with --follow each request waits (up
// to maxEventsWait) for events to come, so following is a series of long
// polls on fresh connections.
package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Operations of a Request.
const (
	OpTenantAdd    = "tenant.add"
	OpTenantList   = "tenant.list"
	OpTenantRemove = "tenant.remove"
	OpTokenCreate  = "token.create"
	OpTokenList    = "token.list"
	OpTokenRevoke  = "token.revoke"
	OpOAuthSet     = "tenant.oauth.set"
	OpOAuthList    = "tenant.oauth.list"
	OpOAuthRemove  = "tenant.oauth.remove"
	OpReindex      = "data.reindex"
	OpBackup       = "data.backup"
	OpEvents       = "events.read"
)

// maxEvents bounds the events of one events.read answer; maxEventsWait
// how long one waits for events (under the socket's timeout).
const (
	maxEvents     = 1000
	maxEventsWait = 20 * time.Second
)

// dataOp says whether op is a data command, which may run for minutes
// rather than milliseconds (see timeout).
func dataOp(op string) bool { return op == OpReindex || op == OpBackup }

// Request is one command.
type Request struct {
	Op     string `json:"op"`
	Tenant string `json:"tenant,omitempty"`
	Label  string `json:"label,omitempty"`
	ID     string `json:"id,omitempty"`
	// Issuer, JWKSURL, Audiences (tenant.oauth.*): an OAuth issuer of
	// Tenant (list: Tenant "" lists every tenant's).
	Issuer    string   `json:"issuer,omitempty"`
	JWKSURL   string   `json:"jwksUrl,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
	// Check (reindex) rolls the rewrite back and reports what it would do.
	Check bool `json:"check,omitempty"`
	// Path (backup) is the absolute path of the backup file; Force
	// replaces an existing one.
	Path  string `json:"path,omitempty"`
	Force bool   `json:"force,omitempty"`
	// After, Limit (events.read): events of Tenant with seq > After, at
	// most Limit (maxEvents). WaitMS > 0 waits that long (at most
	// maxEventsWait) for the first one.
	After  int64 `json:"after,omitempty"`
	Limit  int   `json:"limit,omitempty"`
	WaitMS int64 `json:"waitMs,omitempty"`
}

// Response is a command's result: Error, or what the operation returns.
type Response struct {
	Error   string                 `json:"error,omitempty"`
	Tenants []credential.Tenant    `json:"tenants,omitempty"`
	Tokens  []credential.TokenInfo `json:"tokens,omitempty"`
	// Token is the new token of token.create: sent once, over the socket
	// only, and never logged.
	Token string                `json:"token,omitempty"`
	Info  *credential.TokenInfo `json:"info,omitempty"`

	Issuers []credential.Issuer `json:"issuers,omitempty"`

	Reindex []*engine.ReindexReport `json:"reindex,omitempty"`
	Backup  *sqlstore.BackupInfo    `json:"backup,omitempty"`

	Events []feed.Event `json:"events,omitempty"`
}

// Purge deletes a tenant's resources inside the transaction that removes
// the tenant (credential.Store.RemoveTenant); nil deletes only its
// credentials.
type Purge func(ctx context.Context, tx bun.Tx, tenant string) error

// Data runs the data commands on an open store (app/server implements it).
type Data interface {
	// Reindex rewrites every resource type's search columns and child
	// rows from the stored documents (engine.Service.Reindex), one report
	// per type.
	Reindex(ctx context.Context, check bool) ([]*engine.ReindexReport, error)
	// Backup writes a consistent copy of a SQLite store to path.
	Backup(ctx context.Context, path string, force bool) (sqlstore.BackupInfo, error)
}

// Backend is what commands run on: a server's store, or the one the
// command line opened itself.
type Backend struct {
	Creds *credential.Store
	Purge Purge
	Data  Data // nil: no data commands
	// Events is the store's change feed (nil: no events command).
	Events *feed.Feed
}

// Exec runs req on b.
func Exec(ctx context.Context, b Backend, req Request) Response {
	var resp Response
	var err error
	creds, purge := b.Creds, b.Purge
	switch req.Op {
	case OpTenantAdd:
		err = creds.AddTenant(ctx, req.Tenant)
	case OpTenantList:
		resp.Tenants, err = creds.Tenants(ctx)
	case OpTenantRemove:
		var p func(context.Context, bun.Tx) error
		if purge != nil {
			p = func(ctx context.Context, tx bun.Tx) error { return purge(ctx, tx, req.Tenant) }
		}
		err = creds.RemoveTenant(ctx, req.Tenant, p)
	case OpTokenCreate:
		var info credential.TokenInfo
		resp.Token, info, err = creds.CreateToken(ctx, req.Tenant, req.Label)
		resp.Info = &info
	case OpTokenList:
		resp.Tokens, err = creds.Tokens(ctx, req.Tenant)
	case OpTokenRevoke:
		err = creds.RevokeToken(ctx, req.Tenant, req.ID)
	case OpOAuthSet:
		var i credential.Issuer
		i, err = creds.SetIssuer(ctx, credential.Issuer{Tenant: req.Tenant, Issuer: req.Issuer, JWKSURL: req.JWKSURL, Audiences: req.Audiences})
		resp.Issuers = []credential.Issuer{i}
	case OpOAuthList:
		resp.Issuers, err = creds.Issuers(ctx, req.Tenant)
	case OpOAuthRemove:
		err = creds.RemoveIssuer(ctx, req.Tenant, req.Issuer)
	case OpReindex, OpBackup:
		if b.Data == nil {
			err = fmt.Errorf("operation %q is not available here", req.Op)
			break
		}
		if req.Op == OpReindex {
			resp.Reindex, err = b.Data.Reindex(ctx, req.Check)
			break
		}
		var info sqlstore.BackupInfo
		if info, err = b.Data.Backup(ctx, req.Path, req.Force); err == nil {
			resp.Backup = &info
		}
	case OpEvents:
		resp.Events, err = readEvents(ctx, b.Events, req)
	default:
		err = fmt.Errorf("unknown operation %q", req.Op)
	}
	if err != nil {
		return Response{Error: err.Error()}
	}
	return resp
}

// readEvents runs events.read.
func readEvents(ctx context.Context, f *feed.Feed, req Request) ([]feed.Event, error) {
	if f == nil {
		return nil, fmt.Errorf("operation %q is not available here", req.Op)
	}
	if err := tenant.Valid(req.Tenant); err != nil {
		return nil, err
	}
	limit := req.Limit
	if limit <= 0 || limit > maxEvents {
		limit = maxEvents
	}
	if req.WaitMS <= 0 {
		return f.Read(ctx, req.Tenant, req.After, limit)
	}
	wctx, cancel := context.WithTimeout(ctx, min(time.Duration(req.WaitMS)*time.Millisecond, maxEventsWait))
	defer cancel()
	evs, err := f.Wait(wctx, req.Tenant, req.After, limit)
	if err != nil && wctx.Err() != nil {
		return nil, nil // nothing came in time, or the server is stopping
	}
	return evs, err
}

func (r Response) err() error {
	if r.Error != "" {
		return errors.New(r.Error)
	}
	return nil
}
