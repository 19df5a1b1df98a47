package e2e

// Stopping the server: gracefully (SIGTERM) and not at all gracefully
// (SIGKILL under a write load), with the real binary.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: on SIGTERM /readyz answers 503 at once while the
// API still serves for SCIMFORGE_SHUTDOWN_DELAY; then new connections are
// refused, a request in flight (its body still arriving) completes with
// its 201, the process exits 0 with "scimforge stopped" as its last log
// line, and the write is there after a restart.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	s := startServerEnv(t, db, "SCIMFORGE_SHUTDOWN_DELAY=1s", "SCIMFORGE_SHUTDOWN_TIMEOUT=15s")
	addr := strings.TrimPrefix(s.root, "http://")

	// A create whose body arrives in two parts: in flight across the
	// shutdown.
	body, _ := requiredBody(http.MethodPost, "/Users", newUser("slow@example.com"))
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	half := len(raw) / 2
	fmt.Fprintf(conn, "POST /scim/v2/Users HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n%s", addr, token, len(raw), raw[:half])
	time.Sleep(100 * time.Millisecond) // the handler is reading the body

	probe := func(path string, auth bool) (int, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		req, _ := http.NewRequest(http.MethodGet, s.root+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := probe("/readyz", false); code != 200 {
		t.Fatalf("readyz before the signal: %d %v", code, err)
	}
	signalled := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code, err := probe("/readyz", false)
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(signalled) > 500*time.Millisecond {
			t.Fatalf("readyz still %d (%v) 500 ms after SIGTERM; want 503 at once", code, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, err := probe("/scim/v2/ServiceProviderConfig", true); code != 200 {
		t.Errorf("during the shutdown delay the API answered %d (%v); want it still served", code, err)
	}
	// After the delay the listener closes: new connections are refused
	// while the slow request is still running.
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Since(signalled) > 5*time.Second {
			t.Fatal("new connections still accepted 5 s after SIGTERM with a 1 s shutdown delay")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if time.Since(signalled) < 900*time.Millisecond {
		t.Errorf("the listener closed %v after SIGTERM, before the 1 s delay", time.Since(signalled))
	}
	select {
	case <-s.done:
		t.Fatal("the server exited with a request in flight")
	default:
	}
	if _, err := conn.Write(raw[half:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the in-flight create: %d, want 201", resp.StatusCode)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not exit after its last request")
	}
	if s.waitErr != nil {
		t.Errorf("exit: %v; want 0", s.waitErr)
	}
	logs := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	if last := logs[len(logs)-1]; !strings.Contains(last, "scimforge stopped") {
		t.Errorf("last log line %q; want scimforge stopped (the log flushed after the database closed)", last)
	}
	if !strings.Contains(s.logs.String(), "status=201") {
		t.Error("the in-flight request's access log line is missing")
	}
	s2 := startServer(t, db)
	if n := s2.count(t, "/Users", `userName eq "slow@example.com"`); n != 1 {
		t.Errorf("after a restart the in-flight create is found %d times", n)
	}
}

// userState is what the server acknowledged (or was sent, unacknowledged)
// for one user.
type userState struct {
	version int64
	display string
	email   string
}

type trackedUser struct {
	id, userName string
	acked        userState
	pending      *userState // a write in flight when the server died
}

// etagVersion reads W/"n".
func etagVersion(etag string) (int64, bool) {
	v, ok := strings.CutPrefix(etag, `W/"`)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(v, `"`), 10, 64)
	return n, err == nil
}

// TestKillUnderWriteLoad: several clients create and patch users (each
// PATCH changes displayName and the email, a child row); the server is
// killed with SIGKILL in the middle. Every write answered 2xx before the
// kill is there afterwards with the acknowledged content and version (a
// write in flight at the kill may or may not be); the database is
// consistent (SQLite: integrity_check and foreign_key_check; both engines:
// each user's email, a child row, finds it by filter); and the server
// restarts and takes writes.
func TestKillUnderWriteLoad(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	s := startServer(t, db)
	const clients = 6
	var acks atomic.Int64
	stop := make(chan struct{})
	users := make([][]*trackedUser, clients)
	var unacked [clients]int
	var errs []string
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mine := users[c]
				if len(mine) == 0 || i%3 == 0 {
					name := fmt.Sprintf("kill-%d-%d@example.com", c, i)
					body := newUser(name)
					body["displayName"] = "v0"
					r := s.send(http.MethodPost, "/Users", body)
					if r.err != nil {
						unacked[c]++
						return // the server is gone
					}
					if r.status != http.StatusCreated {
						fail("create %s: %s", name, r)
						return
					}
					v, ok := etagVersion(r.etag)
					if !ok {
						fail("create %s: ETag %q", name, r.etag)
						return
					}
					id, _ := r.body["id"].(string)
					users[c] = append(mine, &trackedUser{id: id, userName: name, acked: userState{v, "v0", name}})
					acks.Add(1)
					continue
				}
				u := mine[i%len(mine)]
				next := userState{u.acked.version + 1, fmt.Sprintf("v%d", i), fmt.Sprintf("mail-%d-%d@example.com", c, i)}
				u.pending = &next
				r := s.send(http.MethodPatch, "/Users/"+u.id, obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": arr{
					obj{"op": "replace", "path": "displayName", "value": next.display},
					obj{"op": "replace", "path": "emails", "value": arr{obj{"value": next.email, "type": "work", "primary": true}}},
				}})
				if r.err != nil {
					unacked[c]++
					return
				}
				if r.status != http.StatusOK && r.status != http.StatusNoContent {
					fail("patch %s: %s", u.id, r)
					return
				}
				v, ok := etagVersion(r.etag)
				if !ok || v != next.version {
					fail("patch %s: ETag %q, want version %d", u.id, r.etag, next.version)
					return
				}
				u.acked, u.pending = next, nil
				acks.Add(1)
			}
		}()
	}
	// Kill once the load is well under way.
	for deadline := time.Now().Add(30 * time.Second); acks.Load() < 1000 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	s.kill() // SIGKILL
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("errors under load: %v", errs)
	}
	var all []*trackedUser
	inFlight := 0
	for c := range clients {
		all = append(all, users[c]...)
		inFlight += unacked[c]
	}
	t.Logf("%s: %d writes acknowledged (%d users) before SIGKILL, %d in flight", engine, acks.Load(), len(all), inFlight)
	if acks.Load() < 1000 {
		t.Fatalf("only %d writes acknowledged in 30 s", acks.Load())
	}
	if inFlight == 0 {
		t.Error("no request was in flight at the kill: the test did not kill under load")
	}

	if engine == "sqlite" {
		sdb := sqlOf(t, db)
		var ic string
		if err := sdb.QueryRow("PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
			t.Fatalf("integrity_check: %q %v", ic, err)
		}
		rows, err := sdb.Query("PRAGMA foreign_key_check")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var table, parent string
			var rowid, fkid any
			rows.Scan(&table, &rowid, &parent, &fkid)
			t.Errorf("foreign key violation: %s row %v → %s", table, rowid, parent)
		}
		rows.Close()
		sdb.Close() // the server holds the file exclusively
	}

	s2 := startServer(t, db)
	for _, u := range all {
		r := s2.send(http.MethodGet, "/Users/"+u.id, nil)
		if r.status != http.StatusOK {
			t.Errorf("acknowledged user %s (%s): %s after the restart", u.id, u.userName, r)
			continue
		}
		v, _ := etagVersion(r.etag)
		emails, _ := r.body["emails"].([]any)
		var email string
		if len(emails) == 1 {
			email, _ = emails[0].(map[string]any)["value"].(string)
		}
		got := userState{v, fmt.Sprint(r.body["displayName"]), email}
		if got != u.acked && (u.pending == nil || got != *u.pending) {
			t.Errorf("user %s: %+v after the restart; acknowledged %+v (in flight: %+v)", u.id, got, u.acked, u.pending)
			continue
		}
		// The child row matches the document: the filter finds the user.
		f := s2.send(http.MethodGet, "/Users?filter="+pct(`emails.value eq "`+got.email+`"`)+"&attributes=id", nil)
		if res, _ := f.body["Resources"].([]any); f.status != 200 || len(res) != 1 || res[0].(map[string]any)["id"] != u.id {
			t.Errorf("filter on %s's email %s: %s", u.id, got.email, f)
		}
	}
	n := s2.count(t, "/Users", `userName sw "kill-"`)
	if n < int64(len(all)) || n > int64(len(all)+clients) {
		t.Errorf("%d kill- users listed; %d acknowledged, at most %d creates in flight", n, len(all), clients)
	}
	// And the restarted server takes writes.
	u := s2.create(t, "/Users", newUser("after-kill@example.com"))
	s2.do(t, http.MethodPatch, "/Users/"+str(u, "id"), obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": arr{obj{"op": "replace", "path": "displayName", "value": "ok"}}}).want(t, http.StatusOK, http.StatusNoContent)
}

// TestRateLimitOverHTTP: the real server refuses a credential past its
// burst with a 429 SCIM error and Retry-After, and /metrics (no token, no
// SCIM base) counts it.
func TestRateLimitOverHTTP(t *testing.T) {
	t.Parallel()
	s := startServerEnv(t, newDatabase(t), "SCIMFORGE_RATE_LIMIT=0.1", "SCIMFORGE_RATE_BURST=3")
	// waitReady spent part of the burst: send until refused.
	var r *response
	for i := 0; i < 4; i++ {
		if r = s.do(t, http.MethodGet, "/Users", nil); r.Status == http.StatusTooManyRequests {
			break
		}
	}
	r.wantError(t, http.StatusTooManyRequests)
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 10 {
		t.Errorf("Retry-After %q; want whole seconds, 1 to 10 at 0.1 requests/s", r.Header.Get("Retry-After"))
	}
	resp, err := s.client.Get(s.root + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	for _, want := range []string{"scimforge_rate_limited_total 1", `scimforge_http_requests_total{code="429",operation="list",route="/scim/v2/Users"} 1`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
