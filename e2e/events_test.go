package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimforge/scimforge/scim/feed"
)

const webhookSecret = "e2e-webhook-secret-0123456789abcdef"

// hookReceiver is a webhook endpoint on loopback: it refuses (503) until
// accept is set, checks every signature, and records what it accepted.
type hookReceiver struct {
	mu       sync.Mutex
	accept   bool
	refused  int
	bad      []string
	accepted [][]feed.Event
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		return
	}
	if err := feed.VerifySignature(webhookSecret, r.Header.Get(feed.SignatureHeader), body, time.Minute); err != nil {
		h.bad = append(h.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !h.accept {
		h.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var b feed.Batch
	if err := json.Unmarshal(body, &b); err != nil || len(b.Events) == 0 {
		h.bad = append(h.bad, "bad body: "+string(body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.accepted = append(h.accepted, b.Events)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) snapshot() (refused int, bad []string, accepted [][]feed.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refused, slices.Clone(h.bad), slices.Clone(h.accepted)
}

// cliEvents runs bin/scimforge events against the database (through the
// running server's admin socket on SQLite) and decodes its JSON lines.
func cliEvents(t *testing.T, dbURL string, args ...string) []feed.Event {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"events"}, args...)...)
	cmd.Env = append(os.Environ(), "SCIMFORGE_DATABASE_URL="+dbURL, "SCIMFORGE_TENANCY=none")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("scimforge events: %v\n%s", err, errOut.String())
	}
	var evs []feed.Event
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var ev feed.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("scimforge events printed %q: %v", l, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestEventsSurviveCrashBeforeDelivery: writes committed over HTTP while
// the webhook receiver refuses them; the server is killed (SIGKILL) before
// it could deliver, and restarted; once the receiver accepts, every event
// arrives, in seq order without gaps (a redelivery repeats a seq, never
// skips one), and each resource's changes in the order they were made.
//
// It needs the engine's write paths to append events (feed.Append).
func TestEventsSurviveCrashBeforeDelivery(t *testing.T) {
	t.Parallel()
	rc := &hookReceiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	env := []string{"SCIMFORGE_WEBHOOK_URL=" + hook.URL + "/scim-events", "SCIMFORGE_WEBHOOK_SECRET=" + webhookSecret}
	db := newDatabase(t)
	s := startServerEnv(t, db, env...)

	// What each resource goes through, in order.
	type change struct{ id, op string }
	var made []change
	var users []string
	for _, name := range []string{"ada", "grace", "edsger"} {
		u := s.create(t, "/Users", newUser(name+"@example.com"))
		users = append(users, str(u, "id"))
		made = append(made, change{str(u, "id"), "create"})
	}
	patch := func(target string, ops ...obj) {
		s.do(t, http.MethodPatch, target, obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}).want(t, http.StatusOK, http.StatusNoContent)
	}
	patch("/Users/"+users[0], obj{"op": "replace", "path": "active", "value": false})
	made = append(made, change{users[0], "patch"})
	repl := newUser("grace@example.com")
	repl["displayName"] = "Grace H."
	s.do(t, http.MethodPut, "/Users/"+users[1], repl).want(t, http.StatusOK)
	made = append(made, change{users[1], "replace"})
	g := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Engineers", "members": arr{obj{"value": users[0]}, obj{"value": users[1]}}})
	gid := str(g, "id")
	made = append(made, change{gid, "create"})
	patch("/Groups/"+gid, obj{"op": "remove", "path": `members[value eq "` + users[1] + `"]`})
	made = append(made, change{gid, "patch"})
	s.do(t, http.MethodDelete, "/Users/"+users[2], nil).want(t, http.StatusNoContent)
	made = append(made, change{users[2], "delete"})

	// The receiver has refused at least one delivery: the events were
	// committed and delivery was under way. Then the crash.
	deadline := time.Now().Add(20 * time.Second)
	for {
		refused, bad, _ := rc.snapshot()
		if len(bad) > 0 {
			t.Fatalf("bad webhook requests: %v", bad)
		}
		if refused > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no webhook delivery was attempted within 20 s of the writes: do the engine's write paths append events (feed.Append) and call feed.Notify?")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill() // SIGKILL: nothing is flushed or shut down
	rc.mu.Lock()
	rc.accept = true
	rc.mu.Unlock()
	s2 := startServerEnv(t, db, env...)

	// The feed as stored, read with the command line (through the new
	// server's admin socket on SQLite).
	stored := cliEvents(t, db)
	if len(stored) < len(made) {
		t.Fatalf("scimforge events lists %d events, want at least %d (one per write): %+v", len(stored), len(made), stored)
	}
	head := stored[len(stored)-1].Seq
	for i, ev := range stored {
		if ev.Seq != int64(i+1) || ev.Tenant != "default" {
			t.Fatalf("stored event %d: %+v (want seq %d of tenant default)", i, ev, i+1)
		}
	}
	// Everything arrives after the restart.
	var applied []feed.Event
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, bad, accepted := rc.snapshot()
		if len(bad) > 0 {
			t.Fatalf("bad webhook requests: %v", bad)
		}
		applied = applied[:0]
		var last int64
		for _, batch := range accepted {
			for i, ev := range batch {
				if i > 0 && ev.Seq != batch[i-1].Seq+1 {
					t.Fatalf("batch not in seq order: %+v", batch)
				}
				switch {
				case ev.Seq > last+1:
					t.Fatalf("seq %d delivered after %d: a gap", ev.Seq, last)
				case ev.Seq <= last:
					// A redelivery: the same event again.
					if orig := stored[ev.Seq-1]; orig.ID != ev.ID || orig.Op != ev.Op || orig.Version != ev.Version {
						t.Fatalf("seq %d redelivered as %+v, stored as %+v", ev.Seq, ev, orig)
					}
				default:
					applied = append(applied, ev)
					last = ev.Seq
				}
			}
		}
		if last >= head {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered up to seq %d of %d within 30 s of the restart", last, head)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Each resource's changes arrive in the order they were made, with
	// growing versions.
	for _, id := range append(slices.Clone(users), gid) {
		var want, got []string
		for _, c := range made {
			if c.id == id {
				want = append(want, c.op)
			}
		}
		var version int64
		for _, ev := range applied {
			if ev.ID != id {
				continue
			}
			if ev.Version <= version && ev.Op != "delete" {
				t.Errorf("%s: version %d after %d", id, ev.Version, version)
			}
			version = ev.Version
			got = append(got, ev.Op)
		}
		// Group events caused by a member's deletion may come in between.
		i := 0
		for _, op := range got {
			if i < len(want) && op == want[i] {
				i++
			}
		}
		if i != len(want) {
			t.Errorf("%s: delivered ops %v, want %v in this order", id, got, want)
		}
	}
	for _, ev := range applied {
		switch {
		case ev.ID == users[0] && ev.Op == "patch" && !slices.Contains(ev.Changed, "active"):
			t.Errorf("deactivation event does not name active: %+v", ev)
		case ev.ID == gid && ev.Op == "patch" && !slices.Contains(ev.MembersRemoved, users[1]):
			t.Errorf("member removal event does not name the member: %+v", ev)
		}
	}
	s2.stop(t)
}
