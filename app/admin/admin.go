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
package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/credential"
)

// Operations of a Request.
const (
	OpTenantAdd    = "tenant.add"
	OpTenantList   = "tenant.list"
	OpTenantRemove = "tenant.remove"
	OpTokenCreate  = "token.create"
	OpTokenList    = "token.list"
	OpTokenRevoke  = "token.revoke"
)

// Request is one command.
type Request struct {
	Op     string `json:"op"`
	Tenant string `json:"tenant,omitempty"`
	Label  string `json:"label,omitempty"`
	ID     string `json:"id,omitempty"`
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
}

// Purge deletes a tenant's resources inside the transaction that removes
// the tenant (credential.Store.RemoveTenant); nil deletes only its
// credentials.
type Purge func(ctx context.Context, tx bun.Tx, tenant string) error

// Exec runs req on creds.
func Exec(ctx context.Context, creds *credential.Store, purge Purge, req Request) Response {
	var resp Response
	var err error
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
