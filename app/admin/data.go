package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// ErrDuplicates is the outcome of a reindex that found values shared by
// resources in a unique column: the listing is on stdout, nothing changed.
var ErrDuplicates = errors.New("duplicate values in a unique column: nothing was changed for the resource types listed; " +
	"make the values unique (PATCH, PUT or DELETE the listed resources through the API), then run scimforge reindex again")

// reindex runs scimforge reindex [--check].
func (c *CLI) reindex(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	check := fs.Bool("check", false, "rewrite in a transaction that is rolled back, and report what would change")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("scimforge reindex takes no arguments besides --check")
	}
	start := time.Now()
	resp, err := c.do(ctx, Request{Op: OpReindex, Check: *check})
	if err != nil {
		return err
	}
	if *check {
		fmt.Fprintln(c.Stderr, "check: every rewrite is rolled back; nothing is written.")
	}
	var dups bool
	for _, r := range resp.Reindex {
		printReport(c, r)
		dups = dups || len(r.Duplicates) > 0
	}
	fmt.Fprintf(c.Stdout, "%d resource types in %s\n", len(resp.Reindex), seconds(time.Since(start)))
	if dups {
		return ErrDuplicates
	}
	return nil
}

func printReport(c *CLI, r *engine.ReindexReport) {
	if len(r.Duplicates) > 0 {
		fmt.Fprintf(c.Stdout, "%s: values held by more than one resource of a tenant in a unique column; the rewrite was rolled back (%s):\n%s",
			r.Type, seconds(r.Elapsed), sqlstore.FormatDuplicates(r.Duplicates, "  "))
		return
	}
	verb := "changed"
	if r.Check {
		verb = "would change"
	}
	fmt.Fprintf(c.Stdout, "%s: %d resources, %d %s, %d documents re-encoded (%s)\n", r.Type, r.Resources, r.Changed, verb, r.Docs, seconds(r.Elapsed))
	var tables []string
	for _, t := range r.Tables {
		if t.Added+t.Removed > 0 {
			tables = append(tables, fmt.Sprintf("%s +%d -%d", t.Table, t.Added, t.Removed))
		}
	}
	if len(tables) > 0 {
		fmt.Fprintf(c.Stdout, "  rows: %s\n", strings.Join(tables, ", "))
	}
	if len(r.Sample) > 0 {
		more := ""
		if r.Changed > len(r.Sample) {
			more = ", …"
		}
		fmt.Fprintf(c.Stdout, "  e.g. %s%s\n", strings.Join(r.Sample, ", "), more)
	}
}

// backup runs scimforge backup [--force] PATH.
func (c *CLI) backup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	force := fs.Bool("force", false, "replace PATH if it exists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("scimforge backup takes one path: scimforge backup [--force] PATH")
	}
	loc, err := sqlstore.ParseURL(c.DatabaseURL)
	if err != nil {
		return err
	}
	if loc.Driver != "sqlite" {
		return sqlstore.ErrBackupPostgres
	}
	// The server resolves the path in its own working folder.
	dest, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	var info sqlstore.BackupInfo
	resp, err := Send(ctx, SocketPath(loc.Path), Request{Op: OpBackup, Path: dest, Force: *force})
	switch {
	case err == nil:
		if err := resp.err(); err != nil {
			return err
		}
		if resp.Backup == nil {
			return errors.New("the server did not report the backup")
		}
		info = *resp.Backup
	case errors.Is(err, errNoServer):
		if info, err = sqlstore.BackupFile(ctx, loc.Path, dest, *force); err != nil {
			return err
		}
	default:
		return err
	}
	fmt.Fprintf(c.Stdout, "backed up %s to %s (%d bytes, %s)\n", loc.Path, info.Path, info.Bytes, seconds(info.Elapsed))
	return nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
