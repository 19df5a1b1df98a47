package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/app/admin"
	"github.com/scimforge/scimforge/app/server"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// feedServer is a SQLite store held by this process with an admin socket
// that serves its change feed, as server.New sets it up.
type feedServer struct {
	url  string
	db   *sqlstore.DB
	sock *admin.Listener
}

func startFeed(t *testing.T) *feedServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "e.db")
	url := "sqlite://" + path
	db, creds, err := server.Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sock, err := admin.Listen(admin.SocketPath(path), admin.Backend{Creds: creds, Events: feed.New(db.Write, db.Dialect)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	return &feedServer{url: url, db: db, sock: sock}
}

// commit appends events for ids in one transaction each, as the engine's
// writes do, and wakes the waiting readers.
func commit(t *testing.T, db *sqlstore.DB, tenant string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		err := db.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			return feed.Append(ctx, tx, db.Dialect, &feed.Event{Tenant: tenant, ResourceType: "User", ID: id, Op: feed.OpCreate, Version: 1, Changed: []string{"userName"}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	feed.Notify()
}

// eventsCLI runs scimforge events; direct says whether it may open the
// database itself (no server).
func eventsCLI(ctx context.Context, t *testing.T, url string, tenancy web.Tenancy, direct bool, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	c := &admin.CLI{
		DatabaseURL: url,
		Tenancy:     tenancy,
		Open: func(ctx context.Context, url string) (admin.Backend, func() error, error) {
			if !direct {
				t.Errorf("%v: opened the database while a server holds it", args)
				return admin.Backend{}, nil, errors.New("locked")
			}
			db, creds, err := server.Open(ctx, url, sqlstore.Options{NoCache: true})
			if err != nil {
				return admin.Backend{}, nil, err
			}
			return admin.Backend{Creds: creds, Events: feed.New(db.Write, db.Dialect)}, db.Close, nil
		},
		Stdout: &out,
		Stderr: &errOut,
	}
	err = c.Run(ctx, append([]string{"events"}, args...))
	return out.String(), errOut.String(), err
}

// lines decodes JSON lines of events.
func lines(t *testing.T, out string) []feed.Event {
	t.Helper()
	var evs []feed.Event
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var ev feed.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func seqsOf(evs []feed.Event) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.Seq)
	}
	return out
}

func TestEventsThroughSocket(t *testing.T) {
	srv := startFeed(t)
	ctx := context.Background()
	commit(t, srv.db, "default", "u1", "u2", "u3")
	commit(t, srv.db, "acme", "a1")
	out, _, err := eventsCLI(ctx, t, srv.url, web.TenancyNone, false)
	if err != nil {
		t.Fatal(err)
	}
	evs := lines(t, out)
	if len(evs) != 3 || evs[0].ID != "u1" || evs[2].Seq != 3 || evs[0].Tenant != "default" || evs[0].Op != "create" || evs[0].Changed[0] != "userName" {
		t.Fatalf("events: %s", out)
	}
	if !strings.Contains(out, `"resourceType":"User"`) || strings.Count(out, "\n") != 3 {
		t.Fatalf("not one JSON object per line: %s", out)
	}
	out, _, err = eventsCLI(ctx, t, srv.url, web.TenancyNone, false, "--after", "1", "--limit", "1")
	if evs := lines(t, out); err != nil || len(evs) != 1 || evs[0].Seq != 2 {
		t.Fatalf("--after 1 --limit 1: %s %v", out, err)
	}
	out, _, err = eventsCLI(ctx, t, srv.url, web.TenancyNone, false, "--json", "--after", "1")
	var doc feed.Batch
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Events) != 2 || strings.Count(out, "\n") != 1 {
		t.Fatalf("--json: %q %v", out, err)
	}
	out, _, err = eventsCLI(ctx, t, srv.url, web.TenancyNone, false, "--json", "--after", "3")
	if err != nil || strings.TrimSpace(out) != `{"events":[]}` {
		t.Fatalf("--json of nothing: %q %v", out, err)
	}
	// Tenancy rules as for tokens.
	if _, _, err := eventsCLI(ctx, t, srv.url, web.TenancyPath, false); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Fatalf("path tenancy without --tenant: %v", err)
	}
	out, _, err = eventsCLI(ctx, t, srv.url, web.TenancyPath, false, "--tenant", "acme")
	if evs := lines(t, out); err != nil || len(evs) != 1 || evs[0].ID != "a1" {
		t.Fatalf("acme: %s %v", out, err)
	}
	for _, args := range [][]string{{"--after", "-1"}, {"x"}} {
		var ue *admin.UsageError
		if _, _, err := eventsCLI(ctx, t, srv.url, web.TenancyNone, false, args...); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// TestEventsFollow: --follow prints what is there, then each event as it
// is committed (the server's long poll wakes on Notify).
func TestEventsFollow(t *testing.T) {
	srv := startFeed(t)
	commit(t, srv.db, "default", "u1", "u2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out string
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, _, err = eventsCLI(ctx, t, srv.url, web.TenancyNone, false, "--follow", "--limit", "4")
	}()
	time.Sleep(200 * time.Millisecond)
	commit(t, srv.db, "default", "u3")
	time.Sleep(100 * time.Millisecond)
	commit(t, srv.db, "default", "u4", "u5")
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(lines(t, out)); len(got) != 4 || got[3] != 4 {
		t.Fatalf("followed %v", got)
	}
}

// TestEventsDirect: without a server the command reads the file itself,
// and says when retention deleted events it was asked for.
func TestEventsDirect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	url := "sqlite://" + path
	db, _, err := server.Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, db, "default", "u1", "u2", "u3")
	f := feed.New(db.Write, db.Dialect)
	// Events 1 and 2 are pruned: only 3 is left.
	if _, err := db.Write.ExecContext(context.Background(), `DELETE FROM scimforge_events WHERE seq < 3`); err != nil {
		t.Fatal(err)
	}
	if h, _ := f.Head(context.Background(), "default"); h != 3 {
		t.Fatalf("head %d", h)
	}
	db.Close()
	out, errOut, err := eventsCLI(context.Background(), t, url, web.TenancyNone, true)
	if evs := lines(t, out); err != nil || len(evs) != 1 || evs[0].Seq != 3 {
		t.Fatalf("direct read: %q %v", out, err)
	}
	if !strings.Contains(errOut, "events 1 to 2 of tenant default were deleted by retention") {
		t.Fatalf("no note about the pruned events: %q", errOut)
	}
}

// TestSocketCloseEndsLongPolls: stopping the server does not wait for a
// follower's long poll.
func TestSocketCloseEndsLongPolls(t *testing.T) {
	srv := startFeed(t)
	path := strings.TrimPrefix(srv.url, "sqlite://")
	var wg sync.WaitGroup
	wg.Add(1)
	var resp admin.Response
	var err error
	go func() {
		defer wg.Done()
		resp, err = admin.Send(context.Background(), admin.SocketPath(path), admin.Request{Op: admin.OpEvents, Tenant: "default", WaitMS: 20000})
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if cerr := srv.sock.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	wg.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close waited %s for a long poll", d)
	}
	if err != nil || resp.Error != "" || len(resp.Events) != 0 {
		t.Fatalf("the poll ended with %+v, %v; want an empty answer", resp, err)
	}
}
