// Package admin manages tenants and tokens for the command line
// (scimforge tenant …, scimforge token …), while the server runs.
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
// itself, through the Data it was given.
package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// Operations of a Request.
const (
	OpTenantAdd    = "tenant.add"
	OpTenantList   = "tenant.list"
	OpTenantRemove = "tenant.remove"
	OpTokenCreate  = "token.create"
	OpTokenList    = "token.list"
	OpTokenRevoke  = "token.revoke"
	OpReindex      = "data.reindex"
	OpBackup       = "data.backup"
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
	// Check (reindex) rolls the rewrite back and reports what it would do.
	Check bool `json:"check,omitempty"`
	// Path (backup) is the absolute path of the backup file; Force
	// replaces an existing one.
	Path  string `json:"path,omitempty"`
	Force bool   `json:"force,omitempty"`
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

	Reindex []*engine.ReindexReport `json:"reindex,omitempty"`
	Backup  *sqlstore.BackupInfo    `json:"backup,omitempty"`
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
	default:
		err = fmt.Errorf("unknown operation %q", req.Op)
	}
	if err != nil {
		return Response{Error: err.Error()}
	}
	return resp
}

func (r Response) err() error {
	if r.Error != "" {
		return errors.New(r.Error)
	}
	return nil
}
