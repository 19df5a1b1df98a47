// Command bench measures the SCIM server against a bare net/http handler.
//
//	go run ./bench [flags]        (make bench)
//
// It builds the server (or uses -server-bin), starts it on a fresh SQLite
// database in a temporary folder, loads users through POST /Users (the
// "create" figure), then runs fixed-duration phases, interleaved to reduce
// drift on a noisy machine:
//
//	bare #1, GET /Users/{id}, bare #2, filter userName eq, bare #3
//
// "bare" is this same binary re-executed as a separate process (the hidden
// bare-server subcommand) serving, with plain net/http, the exact bytes the
// server returned for one GET /Users/{id}. Both sides therefore pay the same
// process split, loopback and client costs; the ratio is what the SCIM
// stack (auth, routing, access log, SQLite, JSON) costs on top.
//
// With -phases patch (part of the default) two PATCH phases follow, each
// between bare runs: Entra's {"op":"Replace","path":"active","value":"False"}
// and a plain replace of displayName. Two long phases are chosen by name
// (make bench-groups, make bench-sync):
//
//	groups  one group grows to -group-size members by PATCHes adding 50
//	        members each; the add-50 latency at several sizes, then a
//	        single-member add and remove against the full group
//	sync    an Entra-style initial sync on the fresh database: -sync-users
//	        users by POST, then -sync-groups groups each given -sync-members
//	        members by one PATCH; wall time and per-step rates
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
	fs.IntVar(&o.users, "users", 2000, "users to create (measured) before the read phases")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (database, server log)")
	fs.StringVar(&o.serverBin, "server-bin", "", "use this scimforge binary instead of building ./app/cmd/scimforge")
	fs.StringVar(&o.rowCache, "row-cache", "", "pass SCIMFORGE_ROW_CACHE to the server, e.g. 64MiB (0 measures uncached reads; empty keeps the server default)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the server's CPU profile (its whole run) to this file (go tool pprof FILE)")
	phases := fs.String("phases", "default", "what to measure, comma-separated: read, patch, groups, sync; default = read,patch (the short ones; groups and sync take minutes)")
	fs.IntVar(&o.groupSize, "group-size", 100000, "groups phase: members the one group grows to")
	fs.IntVar(&o.syncUsers, "sync-users", 100000, "sync phase: users to create")
	fs.IntVar(&o.syncGroups, "sync-groups", 1000, "sync phase: groups to create")
	fs.IntVar(&o.syncMembers, "sync-members", 100, "sync phase: members given to each group (one PATCH)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]\n\nStarts the SCIM server on a fresh database, loads users, and compares\ncreate, GET by id and userName filter with a bare net/http handler.\n\n")
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
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		os.Exit(exitSetup)
	}
	if o.duration <= 0 || o.warmup < 0 || o.concurrency < 1 || o.users < 1 || o.groupSize < 1 || o.syncUsers < 1 || o.syncGroups < 0 || o.syncMembers < 0 || o.syncMembers > o.syncUsers {
		fmt.Fprintln(os.Stderr, "bench: -duration, -users, -group-size and -sync-users must be > 0, -concurrency >= 1, -warmup, -sync-groups and -sync-members >= 0, -sync-members <= -sync-users")
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
