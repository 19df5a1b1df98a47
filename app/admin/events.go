package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// eventsPage is how many events one request asks for.
const eventsPage = 500

// events runs scimforge events [--tenant T] [--after N] [--limit N]
// [--follow] [--json].
func (c *CLI) events(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	name := fs.String("tenant", "", "tenant whose events to print (required with path or host tenancy)")
	after := fs.Int64("after", 0, "print the events with a seq above this one")
	limit := fs.Int("limit", 0, "print at most this many events (0: no limit)")
	follow := fs.Bool("follow", false, "keep printing events as they are committed, until interrupted")
	asJSON := fs.Bool("json", false, `print one JSON document {"events":[…]} (a webhook body's shape) instead of one event per line; with --follow, one per batch`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("scimforge events takes no arguments besides its flags")
	}
	if *after < 0 || *limit < 0 {
		return usageError("--after and --limit must not be negative")
	}
	tn, err := c.tenant(*name)
	if err != nil {
		return err
	}
	src := &eventSource{cli: c, follow: *follow}
	defer src.close()
	enc := json.NewEncoder(c.Stdout)
	var all []feed.Event // --json without --follow
	next, printed := *after, 0
	for {
		want := eventsPage
		if *limit > 0 {
			want = min(want, *limit-printed)
		}
		evs, err := src.read(ctx, tn, next, want)
		if err != nil {
			return err
		}
		if len(evs) > 0 && evs[0].Seq > next+1 {
			// Seqs have no gaps: the missing ones were pruned.
			fmt.Fprintf(c.Stderr, "note: events %d to %d of tenant %s were deleted by retention before they were read\n", next+1, evs[0].Seq-1, tn)
		}
		switch {
		case len(evs) == 0:
		case *asJSON && *follow:
			if err := enc.Encode(feed.Batch{Events: evs}); err != nil {
				return err
			}
		case *asJSON:
			all = append(all, evs...)
		default:
			for _, ev := range evs {
				if err := enc.Encode(ev); err != nil {
					return err
				}
			}
		}
		if len(evs) > 0 {
			next = evs[len(evs)-1].Seq
		}
		printed += len(evs)
		if *limit > 0 && printed >= *limit || !*follow && len(evs) < want {
			break
		}
	}
	if *asJSON && !*follow {
		if all == nil {
			all = []feed.Event{}
		}
		return enc.Encode(feed.Batch{Events: all})
	}
	return nil
}

// eventSource reads events from the running server's admin socket (a
// SQLite server holds its file) or from the database directly.
type eventSource struct {
	cli     *CLI
	follow  bool
	b       Backend
	closeDB func() error
	// waiting: SQLite, --follow, no server: what the file held was
	// printed; now wait for a server to answer on the socket.
	waiting bool
}

func (s *eventSource) read(ctx context.Context, tn string, after int64, limit int) ([]feed.Event, error) {
	req := Request{Op: OpEvents, Tenant: tn, After: after, Limit: limit}
	if s.follow {
		req.WaitMS = maxEventsWait.Milliseconds()
	}
	loc, err := sqlstore.ParseURL(s.cli.DatabaseURL)
	sqlite := err == nil && loc.Driver == "sqlite"
	if sqlite && s.closeDB == nil {
		resp, err := Send(ctx, SocketPath(loc.Path), req)
		if err == nil {
			return resp.Events, resp.err()
		}
		if !errors.Is(err, errNoServer) {
			return nil, err
		}
		if s.waiting {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
				return nil, nil
			}
		}
	}
	if s.closeDB == nil {
		b, closeDB, err := s.cli.Open(ctx, s.cli.DatabaseURL)
		if err != nil {
			return nil, err
		}
		if b.Events == nil {
			closeDB()
			return nil, errors.New("this build has no change feed")
		}
		s.b, s.closeDB = b, closeDB
	}
	if sqlite && s.follow {
		// Holding the file would stop a server from starting: read what
		// is there, then let go of it and wait for a server.
		req.WaitMS = 0
	}
	resp := Exec(ctx, s.b, req)
	if sqlite && s.follow && len(resp.Events) < limit {
		s.close()
		s.waiting = true
	}
	return resp.Events, resp.err()
}

func (s *eventSource) close() {
	if s.closeDB != nil {
		s.closeDB()
		s.closeDB = nil
	}
}
