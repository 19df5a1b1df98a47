package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
	"github.com/scimforge/scimforge/scim/web"
)

// Usage lists the commands of this package.
const Usage = `  scimforge tenant add NAME          add a tenant
  scimforge tenant list              list the tenants
  scimforge tenant remove NAME       remove a tenant, its tokens, OAuth issuers and data
  scimforge tenant oauth set --tenant NAME --issuer URL --jwks-url URL [--audience A[,B]]
                                     trust an OAuth issuer for the tenant (path or host tenancy): a JWT at the
                                     tenant whose iss is URL exactly, signed by a key at the JWKS URL, for the
                                     audience (default SCIMFORGE_OAUTH_AUDIENCE); setting it again replaces it
  scimforge tenant oauth list [--tenant NAME]
                                     list the tenant's (or every tenant's) OAuth issuers
  scimforge tenant oauth remove --tenant NAME --issuer URL
                                     stop trusting an issuer (within 5 s on every server)
  scimforge token create [--tenant NAME] [--label TEXT]
                                     create a bearer token; it is printed once, alone on the last line
  scimforge token list [--tenant NAME]
                                     list tokens (id, label, dates; never the token)
  scimforge token revoke [--tenant NAME] ID
                                     revoke a token (within 5 s on every server)
  scimforge token generate           print a random value for SCIMFORGE_TOKEN (stores nothing)
  --tenant is required with SCIMFORGE_TENANCY=path or host and refused with none (the default tenant).
  scimforge reindex [--check]        rewrite every resource's search columns and child rows from its stored
                                     document, for every tenant (after a change in how values are indexed:
                                     folding, a new column or child table, uniqueness). One transaction per
                                     resource type; version, ETag and lastModified stay. --check rolls back
                                     and reports what would change. Duplicates of a unique value are listed,
                                     nothing is changed, and the exit status is 1. While a type is rewritten,
                                     a SQLite server answers no other request; on PostgreSQL, writes to that
                                     type wait for it.
  scimforge backup [--force] PATH    write a consistent copy of the SQLite database to PATH while the server
                                     runs (VACUUM INTO a temporary file, fsync, rename); --force replaces an
                                     existing PATH. With PostgreSQL use pg_dump: the database is the backup.
  scimforge events [--tenant NAME] [--after SEQ] [--limit N] [--follow] [--json]
                                     print the change feed: one JSON object per committed change (seq, tenant,
                                     resourceType, id, op, version, changed, membersAdded, membersRemoved, time),
                                     one per line, oldest first; --follow keeps printing new ones. See docs/events.md.
`

// Opener opens the database for the command line: migrations applied, the
// default tenant present. close releases it.
type Opener func(ctx context.Context, databaseURL string) (b Backend, close func() error, err error)

// CLI runs tenant and token commands.
type CLI struct {
	DatabaseURL string      // SCIMFORGE_DATABASE_URL
	Tenancy     web.Tenancy // SCIMFORGE_TENANCY
	Open        Opener
	Stdout      io.Writer // results; the new token alone on its last line
	Stderr      io.Writer // explanations
}

// Run runs args, e.g. ["token", "create", "--label", "okta"].
func (c *CLI) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "reindex":
			return c.reindex(ctx, args[1:])
		case "backup":
			return c.backup(ctx, args[1:])
		case "events":
			return c.events(ctx, args[1:])
		}
	}
	if len(args) < 2 {
		return usageError("")
	}
	group, cmd, rest := args[0], args[1], args[2:]
	switch group + " " + cmd {
	case "tenant add", "tenant remove":
		if len(rest) != 1 || strings.HasPrefix(rest[0], "-") {
			return usageError("scimforge " + group + " " + cmd + " takes one tenant name")
		}
		op := OpTenantAdd
		if cmd == "remove" {
			op = OpTenantRemove
		}
		if _, err := c.do(ctx, Request{Op: op, Tenant: rest[0]}); err != nil {
			return err
		}
		if cmd == "add" {
			fmt.Fprintf(c.Stdout, "added tenant %s\n", rest[0])
			if c.Tenancy == web.TenancyNone {
				fmt.Fprintf(c.Stderr, "note: SCIMFORGE_TENANCY is none, so the server serves only tenant %q\n", tenant.Default)
			}
		} else {
			fmt.Fprintf(c.Stdout, "removed tenant %s\n", rest[0])
		}
		return nil
	case "tenant oauth":
		return c.tenantOAuth(ctx, rest)
	case "tenant list":
		if len(rest) != 0 {
			return usageError("scimforge tenant list takes no arguments")
		}
		resp, err := c.do(ctx, Request{Op: OpTenantList})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "TENANT\tCREATED")
		for _, t := range resp.Tenants {
			fmt.Fprintf(w, "%s\t%s\n", t.Name, stamp(&t.Created))
		}
		return w.Flush()
	case "token generate":
		if len(rest) != 0 {
			return usageError("scimforge token generate takes no arguments")
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		fmt.Fprintln(c.Stdout, hex.EncodeToString(b))
		return nil
	case "token create", "token list", "token revoke":
	default:
		return usageError("unknown command: scimforge " + group + " " + cmd)
	}
	fs := flag.NewFlagSet("token "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	name := fs.String("tenant", "", "tenant of the token (required with path or host tenancy)")
	var label *string
	if cmd == "create" {
		label = fs.String("label", "", "what the token is for, e.g. okta-prod (shown by token list)")
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	tn, err := c.tenant(*name)
	if err != nil {
		return err
	}
	switch cmd {
	case "create":
		if fs.NArg() != 0 {
			return usageError("scimforge token create takes no arguments besides --tenant and --label")
		}
		resp, err := c.do(ctx, Request{Op: OpTokenCreate, Tenant: tn, Label: *label})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stderr, "Created token %s for tenant %s. It is printed below and never again: put it in your identity provider's SCIM connector now.\n", resp.Info.ID, tn)
		fmt.Fprintln(c.Stdout, resp.Token)
	case "list":
		if fs.NArg() != 0 {
			return usageError("scimforge token list takes no arguments besides --tenant")
		}
		resp, err := c.do(ctx, Request{Op: OpTokenList, Tenant: tn})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tLABEL\tCREATED\tLAST USED\tREVOKED")
		for _, t := range resp.Tokens {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, orDash(t.Label), stamp(&t.Created), stamp(t.LastUsed), stamp(t.Revoked))
		}
		return w.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usageError("scimforge token revoke takes one token id (see scimforge token list)")
		}
		id := fs.Arg(0)
		if _, err := c.do(ctx, Request{Op: OpTokenRevoke, Tenant: tn, ID: id}); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "revoked token %s of tenant %s\n", id, tn)
	}
	return nil
}

// tenantOAuth runs scimforge tenant oauth set|list|remove.
func (c *CLI) tenantOAuth(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("scimforge tenant oauth takes set, list or remove")
	}
	cmd, rest := args[0], args[1:]
	if cmd != "set" && cmd != "list" && cmd != "remove" {
		return usageError("unknown command: scimforge tenant oauth " + cmd)
	}
	if c.Tenancy == web.TenancyNone || c.Tenancy == "" {
		return fmt.Errorf("per-tenant OAuth issuers need SCIMFORGE_TENANCY=path or host; with none, the server's one issuer is SCIMFORGE_OAUTH_ISSUER")
	}
	fs := flag.NewFlagSet("tenant oauth "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	name := fs.String("tenant", "", "the tenant")
	var issuer, jwksURL, audience *string
	if cmd != "list" {
		issuer = fs.String("issuer", "", "the issuer's URL exactly as in its tokens' iss, e.g. https://sts.windows.net/<directory id>/")
	}
	if cmd == "set" {
		jwksURL = fs.String("jwks-url", "", "https URL of the issuer's signing keys, e.g. https://login.microsoftonline.com/<directory id>/discovery/v2.0/keys")
		audience = fs.String("audience", "", "accepted aud values, comma-separated (default: SCIMFORGE_OAUTH_AUDIENCE)")
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("scimforge tenant oauth " + cmd + " takes flags only")
	}
	if *name == "" && cmd != "list" {
		return usageError("scimforge tenant oauth " + cmd + " needs --tenant NAME")
	}
	if *name != "" {
		if err := tenant.Valid(*name); err != nil {
			return err
		}
	}
	switch cmd {
	case "set":
		if *issuer == "" || *jwksURL == "" {
			return usageError("scimforge tenant oauth set needs --issuer URL and --jwks-url URL")
		}
		req := Request{Op: OpOAuthSet, Tenant: *name, Issuer: *issuer, JWKSURL: *jwksURL}
		if *audience != "" {
			req.Audiences = []string{*audience}
		}
		resp, err := c.do(ctx, req)
		if err != nil {
			return err
		}
		i := resp.Issuers[0]
		fmt.Fprintf(c.Stdout, "tenant %s trusts issuer %s (keys %s, audience %s)\n", i.Tenant, i.Issuer, i.JWKSURL, audiences(i))
		fmt.Fprintln(c.Stderr, "A running server uses it at once; other servers on this database within 5 s. The keys are fetched when a token first needs them.")
	case "list":
		resp, err := c.do(ctx, Request{Op: OpOAuthList, Tenant: *name})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "TENANT\tISSUER\tJWKS URL\tAUDIENCE\tCREATED")
		for _, i := range resp.Issuers {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", i.Tenant, i.Issuer, i.JWKSURL, audiences(i), stamp(&i.Created))
		}
		return w.Flush()
	case "remove":
		if *issuer == "" {
			return usageError("scimforge tenant oauth remove needs --issuer URL")
		}
		if _, err := c.do(ctx, Request{Op: OpOAuthRemove, Tenant: *name, Issuer: *issuer}); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "tenant %s no longer trusts issuer %s (other servers on this database stop accepting it within 5 s)\n", *name, *issuer)
	}
	return nil
}

func audiences(i credential.Issuer) string {
	if len(i.Audiences) == 0 {
		return "SCIMFORGE_OAUTH_AUDIENCE"
	}
	return strings.Join(i.Audiences, ",")
}

// tenant applies the tenancy rules to --tenant.
func (c *CLI) tenant(flagValue string) (string, error) {
	if c.Tenancy == web.TenancyNone || c.Tenancy == "" {
		if flagValue != "" {
			return "", fmt.Errorf("--tenant is not used with SCIMFORGE_TENANCY=none: tokens belong to the single tenant %q", tenant.Default)
		}
		return tenant.Default, nil
	}
	if flagValue == "" {
		return "", fmt.Errorf("--tenant NAME is required with SCIMFORGE_TENANCY=%s", c.Tenancy)
	}
	return flagValue, tenant.Valid(flagValue)
}

// do runs req on the running server's socket, or on the database directly
// when no server answers (or the database is not a SQLite file).
func (c *CLI) do(ctx context.Context, req Request) (Response, error) {
	loc, err := sqlstore.ParseURL(c.DatabaseURL)
	if err == nil && loc.Driver == "sqlite" {
		resp, err := Send(ctx, SocketPath(loc.Path), req)
		if err == nil {
			return resp, resp.err()
		}
		if !errors.Is(err, errNoServer) {
			return Response{}, err
		}
	}
	b, closeDB, err := c.Open(ctx, c.DatabaseURL)
	if err != nil {
		return Response{}, err
	}
	defer closeDB()
	resp := Exec(ctx, b, req)
	return resp, resp.err()
}

// UsageError is a command line mistake; the caller prints Usage.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageError(msg string) error { return &UsageError{Msg: msg} }

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
