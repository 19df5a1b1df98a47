// Command bench measures the SCIM server against a bare net/http handler,
// on each storage engine.
//
//	go run ./bench [flags]        (make bench, make bench-1m)
//
// It builds the server (or uses -server-bin) and, for each engine of
// -engines (default sqlite,postgres, one after the other), starts it on a
// fresh database: a SQLite file in a temporary folder, or a database on a
// throwaway PostgreSQL server on 127.0.0.1 that internal/pgtest starts (as
// the postgres OS user when run as root) and stops once that engine is
// done. It loads -users users (default 100,000) through POST /Users (the
// "create" figure, with the create rate as the database grew), then runs
// fixed-duration phases, interleaved to reduce drift on a noisy machine:
//
//	bare #1, GET /Users/{id}, bare #2, filter userName eq, bare #3,
//	PATCH active (Entra), bare #4, PATCH displayName, bare #5,
//	PATCH add member, bare #6
//
// "bare" is this same binary re-executed as a separate process (the hidden
// bare-server subcommand) serving, with plain net/http, the exact bytes the
// engine's server returned for one GET /Users/{id}. Both sides therefore
// pay the same process split, loopback and client costs; the ratio is what
// the SCIM stack (auth, routing, access log, database, JSON) costs on top.
// PATCH active is Entra's {"op":"Replace","path":"active","value":"False"},
// PATCH displayName a plain replace, PATCH add member one user added to
// one of 100 groups created empty beforehand. After each engine its table
// and the scimforge process's resident memory are printed (PostgreSQL's
// own processes are not counted); at the end, with more than one engine,
// a table with one column per engine: requests/s, p50, p99 and the ratio
// to that engine's bare runs.
//
// -phases chooses what runs: read (GET, filter) and patch (the three
// PATCHes) are the default; three long phases are chosen by name:
//
//	groups  one group grows to -group-size members by PATCHes adding 50
//	        members each; the add-50 latency at several sizes, then a
//	        single-member add and remove against the full group
//	        (make bench-groups)
//	sync    an Entra-style initial sync on the fresh database: -sync-users
//	        users by POST, then -sync-groups groups each given -sync-members
//	        members by one PATCH; wall time and per-step rates
//	        (make bench-sync)
//	scale   (make bench-1m: SQLite, 1,000,000 users) loads -scale-from
//	        users and times GET by id, userName eq and the first list page,
//	        loads on to -users (POST /Users, or POST /Bulk with -load-bulk)
//	        and times them again (userName eq target: p50 at most 1.10x);
//	        then the last index page (startIndex) and a cursor page deep in
//	        the list (reached by walking cursor pages of 1,000 ids) against
//	        the first page (target: at most 2x), `co` filters on userName,
//	        emails.value and displayName, and the server's resident memory
//	        (target: under 150 MiB). These are single requests one at a
//	        time, each bounded by -request-timeout, so that a slow scan is
//	        a figure rather than a stall.
//
// Each ratio is taken against the mean of the two bare runs adjacent to the
// phase. Figures below a target are reported, not failed: the exit status is
// 0 unless a request errored (1) or the setup failed (2); 130 on Ctrl-C.
// Nothing asserts wall-clock time: machines are small and noisy.
//
// Only 127.0.0.1 is used.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// basePath is where the server mounts the SCIM API.
const basePath = "/scim/v2"

type options struct {
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	users       int
	keep        bool
	serverBin   string
	rowCache    string
	cpuProfile  string
	phases      phaseSet
	groupSize   int
	syncUsers   int
	syncGroups  int
	syncMembers int
	engines     []string
	scaleFrom   int
	reqTimeout  time.Duration
	loadBulk    bool
}

// Exit statuses.
const (
	exitOK          = 0
	exitErrors      = 1
	exitSetup       = 2
	exitInterrupted = 130
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == bareServerCmd {
		os.Exit(bareServer(os.Args[2:]))
	}
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured duration of each phase")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each phase")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent client workers (and kept-alive connections)")
	fs.IntVar(&o.users, "users", 100000, "users to create (measured) before the read phases; with -phases scale, the large size")
	engines := fs.String("engines", "sqlite,postgres", "storage engines to measure one after the other, comma-separated: sqlite, postgres (a throwaway server started by internal/pgtest)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (database, server log)")
	fs.StringVar(&o.serverBin, "server-bin", "", "use this scimforge binary instead of building ./app/cmd/scimforge")
	fs.StringVar(&o.rowCache, "row-cache", "", "pass SCIMFORGE_ROW_CACHE to the server, e.g. 64MiB (0 measures uncached reads; empty keeps the server default)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the server's CPU profile (its whole run) to this file (go tool pprof FILE)")
	phases := fs.String("phases", "default", "what to measure, comma-separated: read, patch, groups, sync, scale; default = read,patch (the short ones; groups, sync and scale take minutes)")
	fs.IntVar(&o.groupSize, "group-size", 100000, "groups phase: members the one group grows to")
	fs.IntVar(&o.syncUsers, "sync-users", 100000, "sync phase: users to create")
	fs.IntVar(&o.syncGroups, "sync-groups", 1000, "sync phase: groups to create")
	fs.IntVar(&o.syncMembers, "sync-members", 100, "sync phase: members given to each group (one PATCH)")
	fs.IntVar(&o.scaleFrom, "scale-from", 10000, "scale phase: the small size, measured before loading on to -users")
	fs.DurationVar(&o.reqTimeout, "request-timeout", 10*time.Second, "scale phase: per-request timeout of the single-client probes (a slow scan is reported, not waited for)")
	fs.BoolVar(&o.loadBulk, "load-bulk", false, "scale phase: load past -scale-from through POST /Bulk (1000 POSTs per request) rather than POST /Users")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]\n\nStarts the SCIM server on a fresh database of each engine, loads users, and\ncompares create, GET by id, userName filter, PATCH and add-member with a\nbare net/http handler.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(exitOK)
		}
		os.Exit(exitSetup)
	}
	var err error
	if o.phases, err = parsePhases(*phases); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(exitSetup)
	}
	if o.engines, err = parseEngines(*engines); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(exitSetup)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		os.Exit(exitSetup)
	}
	if o.duration <= 0 || o.warmup < 0 || o.concurrency < 1 || o.users < 1 || o.groupSize < 1 || o.syncUsers < 1 || o.syncGroups < 0 || o.syncMembers < 0 || o.syncMembers > o.syncUsers {
		fmt.Fprintln(os.Stderr, "bench: -duration, -users, -group-size and -sync-users must be > 0, -concurrency >= 1, -warmup, -sync-groups and -sync-members >= 0, -sync-members <= -sync-users")
		os.Exit(exitSetup)
	}
	if o.phases.scale && (o.scaleFrom < 1 || o.scaleFrom >= o.users || o.reqTimeout <= 0 || o.phases.sync) {
		fmt.Fprintln(os.Stderr, "bench: -phases scale needs 0 < -scale-from < -users, -request-timeout > 0, and no sync phase (both load the fresh database)")
		os.Exit(exitSetup)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// setupError marks a failure to get the measurement going (exit 2).
type setupError struct{ err error }

func (e setupError) Error() string { return e.err.Error() }
func (e setupError) Unwrap() error { return e.err }

func setupf(format string, a ...any) error { return setupError{fmt.Errorf(format, a...)} }

// run does the whole benchmark; out gets the report, log the progress.
func run(ctx context.Context, o options, out, log io.Writer) int {
	b := &bench{o: o, out: out, log: log}
	defer b.cleanup()
	err := b.run(ctx)
	switch {
	case err == nil:
		if b.requestErrors > 0 {
			fmt.Fprintf(out, "\nFAILED: %d request(s) errored; the figures of the flagged phases are not trustworthy.\n", b.requestErrors)
			return exitErrors
		}
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(log, "\nbench: interrupted")
		return exitInterrupted
	default:
		fmt.Fprintln(log, "bench:", err)
		var se setupError
		if errors.As(err, &se) {
			return exitSetup
		}
		return exitErrors
	}
}
