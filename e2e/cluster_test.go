package e2e

// Several stateless servers on one PostgreSQL database, as a deployment
// behind a load balancer runs them. These tests always use PostgreSQL
// (whatever SCIMFORGE_E2E_ENGINE says): the guarantees they check come
// from the database's constraints and locks, not from one process.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/scimforge/scimforge/internal/pgtest"
)

// cluster starts n servers over one fresh PostgreSQL database, all at once
// (so their migrations race for the advisory lock).
func cluster(t *testing.T, n int) []*server {
	t.Helper()
	db := pgtest.Shared(t).NewDatabase(t)
	servers := make([]*server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = tryStart(t, db, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d of %d starting together: %v", i+1, n, err)
		}
	}
	return servers
}

// reply is one response of a concurrent request (t.Fatal is not allowed
// off the test goroutine, so errors are returned).
type reply struct {
	status int
	etag   string
	body   map[string]any
	raw    []byte
	err    error
}

// send issues a request without touching t; safe from any goroutine.
func (s *server) send(method, target string, body any, hdrs ...string) reply {
	var rd io.Reader
	body, _ = requiredBody(method, target, body)
	if b, ok := body.([]byte); ok {
		rd = bytes.NewReader(b)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+target, rd)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", scimMedia)
	for i := 0; i+1 < len(hdrs); i += 2 {
		req.Header.Set(hdrs[i], hdrs[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, etag: resp.Header.Get("ETag"), raw: raw, err: err}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.body)
	}
	return r
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// parallel runs f(i) for i in [0,n) at once and returns the replies.
func parallel(n int, f func(i int) reply) []reply {
	out := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func memberIDs(g map[string]any) map[string]bool {
	ids := map[string]bool{}
	ms, _ := g["members"].([]any)
	for _, m := range ms {
		if v, _ := m.(map[string]any)["value"].(string); v != "" {
			ids[v] = true
		}
	}
	return ids
}

// TestClusterStartsTogether: four servers starting at once on an empty
// database migrate it once (the advisory lock) and all serve it.
func TestClusterStartsTogether(t *testing.T) {
	servers := cluster(t, 4)
	u := servers[0].create(t, "/Users", newUser("first@example.com"))
	for i, s := range servers {
		if got := s.do(t, http.MethodGet, "/Users/"+str(u, "id"), nil).want(t, http.StatusOK); str(got.JSON, "userName") != "first@example.com" {
			t.Errorf("server %d: %s", i+1, got.Body)
		}
	}
}

// TestClusterRacingCreates: the same userName POSTed at once through two
// servers gives exactly one 201; the others are 409 uniqueness.
func TestClusterRacingCreates(t *testing.T) {
	servers := cluster(t, 2)
	for round := range 15 {
		name := fmt.Sprintf("race%d@example.com", round)
		replies := parallel(8, func(i int) reply {
			return servers[i%2].send(http.MethodPost, "/Users", newUser(name))
		})
		created := 0
		for _, r := range replies {
			switch {
			case r.err != nil:
				t.Fatalf("round %d: %v", round, r.err)
			case r.status == http.StatusCreated:
				created++
			case r.status == http.StatusConflict && r.body["scimType"] == "uniqueness":
			default:
				t.Errorf("round %d: want 201 or 409 uniqueness, got %s", round, r)
			}
		}
		if created != 1 {
			t.Fatalf("round %d: %d creates of %s succeeded, want exactly 1", round, created, name)
		}
		if n := servers[round%2].count(t, "/Users", `userName eq "`+name+`"`); n != 1 {
			t.Fatalf("round %d: %d users named %s stored", round, n, name)
		}
	}
}

// TestClusterConcurrentMembership: members added and removed one PATCH at
// a time, all at once, through two servers: nothing is lost.
func TestClusterConcurrentMembership(t *testing.T) {
	servers := cluster(t, 2)
	a, b := servers[0], servers[1]
	const n = 40
	ids := make([]string, n)
	for i := range ids {
		ids[i] = str(a.create(t, "/Users", newUser(fmt.Sprintf("m%d@example.com", i))), "id")
	}
	gid := str(a.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Racers"}), "id")
	patch := func(op string, id string) obj {
		return obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": arr{obj{"op": op, "path": "members", "value": arr{obj{"value": id}}}}}
	}
	for _, r := range parallel(n, func(i int) reply {
		return servers[i%2].send(http.MethodPatch, "/Groups/"+gid, patch("add", ids[i]))
	}) {
		if r.err != nil || (r.status != http.StatusOK && r.status != http.StatusNoContent) {
			t.Fatalf("add member: %v %s", r.err, r)
		}
	}
	for i, s := range servers {
		if got := memberIDs(s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK).JSON); len(got) != n {
			t.Fatalf("server %d: %d members after %d concurrent adds", i+1, len(got), n)
		}
	}
	// Remove the even ones, at once, through both servers.
	for _, r := range parallel(n/2, func(i int) reply {
		return servers[i%2].send(http.MethodPatch, "/Groups/"+gid, obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": arr{obj{"op": "remove", "path": `members[value eq "` + ids[2*i] + `"]`}}})
	}) {
		if r.err != nil || (r.status != http.StatusOK && r.status != http.StatusNoContent) {
			t.Fatalf("remove member: %v %s", r.err, r)
		}
	}
	got := memberIDs(b.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK).JSON)
	for i, id := range ids {
		if got[id] != (i%2 == 1) {
			t.Errorf("member %d (%s): present=%v after removing the even ones", i, id, got[id])
		}
	}
	if c := a.count(t, "/Groups", `members.value eq "`+ids[1]+`"`); c != 1 {
		t.Errorf("members.value filter for a kept member: %d groups", c)
	}
}

// TestClusterETags: a version written through one server is what the other
// sees: If-Match with the old ETag fails on either, with the new one passes.
func TestClusterETags(t *testing.T) {
	servers := cluster(t, 2)
	a, b := servers[0], servers[1]
	a.needs(t, "User", "title")
	r := a.do(t, http.MethodPost, "/Users", newUser("etag@example.com")).want(t, http.StatusCreated)
	id, v1 := str(r.JSON, "id"), r.Header.Get("ETag")
	if v1 == "" {
		t.Fatal("create returned no ETag")
	}
	// Warm a's view of the user, then change it through b.
	a.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	p := b.do(t, http.MethodPatch, "/Users/"+id, obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": arr{obj{"op": "replace", "path": "title", "value": "Changed on b"}}}, "If-Match", v1).want(t, http.StatusOK, http.StatusNoContent)
	v2 := p.Header.Get("ETag")
	if v2 == "" || v2 == v1 {
		t.Fatalf("PATCH ETag %q after %q", v2, v1)
	}
	got := a.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	if got.Header.Get("ETag") != v2 || str(got.JSON, "title") != "Changed on b" {
		t.Fatalf("server a serves a stale version: ETag %q, want %q: %s", got.Header.Get("ETag"), v2, got.Body)
	}
	a.do(t, http.MethodGet, "/Users/"+id, nil, "If-None-Match", v2).want(t, http.StatusNotModified)
	a.do(t, http.MethodPut, "/Users/"+id, newUser("etag@example.com"), "If-Match", v1).wantError(t, http.StatusPreconditionFailed)
	a.do(t, http.MethodDelete, "/Users/"+id, nil, "If-Match", v1).wantError(t, http.StatusPreconditionFailed)
	// Two conditional writes of the same version at once: exactly one wins.
	replies := parallel(2, func(i int) reply {
		return servers[i].send(http.MethodPatch, "/Users/"+id, obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": arr{obj{"op": "replace", "path": "title", "value": fmt.Sprintf("writer %d", i)}}}, "If-Match", v2)
	})
	ok := 0
	for _, r := range replies {
		switch r.status {
		case http.StatusOK, http.StatusNoContent:
			ok++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("conditional PATCH: %v %s", r.err, r)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 2 PATCHes with If-Match %s succeeded, want 1", ok, v2)
	}
	b.do(t, http.MethodDelete, "/Users/"+id, nil, "If-Match", `W/"nope"`).wantError(t, http.StatusPreconditionFailed)
}

// TestClusterMemberDeletedWhileAdded: a user deleted through one server
// while another adds it to a group never leaves a dangling membership.
func TestClusterMemberDeletedWhileAdded(t *testing.T) {
	servers := cluster(t, 2)
	a, b := servers[0], servers[1]
	gid := str(a.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Churn"}), "id")
	for round := range 25 {
		uid := str(a.create(t, "/Users", newUser(fmt.Sprintf("gone%d@example.com", round))), "id")
		replies := parallel(2, func(i int) reply {
			if i == 0 {
				return a.send(http.MethodDelete, "/Users/"+uid, nil)
			}
			return b.send(http.MethodPatch, "/Groups/"+gid, obj{"schemas": arr{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": arr{obj{"op": "add", "path": "members", "value": arr{obj{"value": uid}}}}})
		})
		if replies[0].status != http.StatusNoContent {
			t.Fatalf("round %d: delete: %v %s", round, replies[0].err, replies[0])
		}
		switch add := replies[1]; add.status {
		case http.StatusOK, http.StatusNoContent: // added before the delete, which then removed it
		case http.StatusBadRequest, http.StatusNotFound: // the member was already gone: a client error, not a 500
		default:
			t.Fatalf("round %d: add member: %v %s", round, add.err, add)
		}
		for i, s := range servers {
			if got := memberIDs(s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK).JSON); got[uid] {
				t.Fatalf("round %d: server %d: deleted user %s is still a member", round, i+1, uid)
			}
		}
		if c := b.count(t, "/Groups", `members.value eq "`+uid+`"`); c != 0 {
			t.Fatalf("round %d: %d groups still list deleted user %s", round, c, uid)
		}
	}
}
