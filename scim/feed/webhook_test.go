package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

const testSecret = "whsec-0123456789abcdef"

// receiver is a webhook endpoint on loopback that checks signatures and
// records every attempt.
type receiver struct {
	mu       sync.Mutex
	attempts []attempt
	badSig   []string
	// respond decides the status of an attempt (n counts the tenant's
	// attempts from 0); nil: 204. It may block.
	respond func(r *http.Request, tenant string, n int, b Batch) int
}

type attempt struct {
	at     time.Time
	tenant string
	seqs   []int64
	status int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if err := VerifySignature(testSecret, r.Header.Get(SignatureHeader), body, time.Minute); err != nil {
		rc.mu.Lock()
		rc.badSig = append(rc.badSig, err.Error())
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil || len(b.Events) == 0 || r.Header.Get("Content-Type") != "application/json" {
		rc.mu.Lock()
		rc.badSig = append(rc.badSig, fmt.Sprintf("bad body %q (%v)", body, err))
		rc.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	tn := b.Events[0].Tenant
	var seqs []int64
	for _, ev := range b.Events {
		if ev.Tenant != tn {
			rc.mu.Lock()
			rc.badSig = append(rc.badSig, "batch mixes tenants")
			rc.mu.Unlock()
		}
		seqs = append(seqs, ev.Seq)
	}
	rc.mu.Lock()
	n := 0
	for _, a := range rc.attempts {
		if a.tenant == tn {
			n++
		}
	}
	a := attempt{at: time.Now(), tenant: tn, seqs: seqs}
	i := len(rc.attempts)
	rc.attempts = append(rc.attempts, a)
	rc.mu.Unlock()
	status := http.StatusNoContent
	if rc.respond != nil {
		status = rc.respond(r, tn, n, b)
	}
	rc.mu.Lock()
	rc.attempts[i].status = status
	rc.mu.Unlock()
	if status != 0 { // 0: the sender has gone
		w.WriteHeader(status)
	}
}

// of returns tenant's attempts.
func (rc *receiver) of(tenant string) []attempt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []attempt
	for _, a := range rc.attempts {
		if a.tenant == tenant {
			out = append(out, a)
		}
	}
	return out
}

// applied is what a receiver that applies an event only when its seq is
// above the last one applied ends up with, over the accepted attempts (and
// those that timed out on the sender's side, status 0, which it may have
// applied).
func applied(as []attempt) []int64 {
	var out []int64
	var last int64
	for _, a := range as {
		if a.status >= 300 {
			continue
		}
		for _, s := range a.seqs {
			if s > last {
				out = append(out, s)
				last = s
			}
		}
	}
	return out
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

// appendN commits n events for tenant, one write each.
func appendN(t testing.TB, db *sqlstore.DB, tenant string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		must(t, db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return Append(ctx, tx, db.Dialect, &Event{Tenant: tenant, ResourceType: "User", ID: fmt.Sprintf("u%d", i%4), Op: OpPatch, Version: int64(i + 2), Changed: []string{"active"}})
		}))
	}
	Notify()
}

// eventually polls cond for up to 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func delivered(t *testing.T, f *Feed, tenant string, seq int64) func() bool {
	return func() bool {
		c, err := f.Cursor(context.Background(), DefaultWebhookCursor, tenant)
		if err != nil {
			t.Error(err)
		}
		return c >= seq
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func equalSeqs(a, b []int64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func startDeliver(t *testing.T, f *Feed, url string, mod func(*Webhook)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	w := Webhook{URL: url, Secret: testSecret, BatchSize: 10, MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mod != nil {
		mod(&w)
	}
	done := make(chan error, 1)
	go func() { done <- f.Deliver(ctx, w) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Deliver: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Deliver did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestWebhookDelivery: batches arrive signed, per tenant in seq order,
// each once accepted; a tenant whose receiver answers 500 is retried with
// a growing pause, while the other tenant's events go on.
func TestWebhookDelivery(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		f := New(db.Write, db.Dialect)
		f.PollInterval = 50 * time.Millisecond
		rc, srv := newReceiver(t)
		const failures = 4
		rc.respond = func(_ *http.Request, tenant string, n int, _ Batch) int {
			if tenant == "acme" && n < failures {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		appendN(t, db, "acme", 25)
		appendN(t, db, "globex", 5)
		startDeliver(t, f, srv.URL, nil)
		eventually(t, "globex delivered", delivered(t, f, "globex", 5))
		eventually(t, "acme delivered", delivered(t, f, "acme", 25))
		// More events later are delivered too (Notify wakes the deliverer).
		appendN(t, db, "globex", 3)
		eventually(t, "globex's later events", delivered(t, f, "globex", 8))

		rc.mu.Lock()
		bad := rc.badSig
		rc.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("bad requests: %v", bad)
		}
		g := rc.of("globex")
		var gs []int64
		for _, a := range g {
			gs = append(gs, a.seqs...)
		}
		if !equalSeqs(g[0].seqs, seqRange(1, 5)) || !equalSeqs(gs, seqRange(1, 8)) {
			t.Fatalf("globex attempts: %+v", g)
		}
		a := rc.of("acme")
		if len(a) != failures+3 {
			t.Fatalf("acme: %d attempts, want %d failures and 3 batches", len(a), failures)
		}
		// The failing batch is sent again as it was; the next one only
		// after it was accepted.
		for i := range failures + 1 {
			if !equalSeqs(a[i].seqs, seqRange(1, 10)) {
				t.Fatalf("acme attempt %d sent %v, want 1..10", i, a[i].seqs)
			}
		}
		if got := applied(a); !equalSeqs(got, seqRange(1, 25)) {
			t.Fatalf("acme applied %v", got)
		}
		if !equalSeqs(a[failures+1].seqs, seqRange(11, 20)) || !equalSeqs(a[failures+2].seqs, seqRange(21, 25)) {
			t.Fatalf("acme batches %v, %v", a[failures+1].seqs, a[failures+2].seqs)
		}
		// Backoff: the pause after the n-th failure is at least half of
		// 20 ms·2ⁿ (timers never fire early), so it grows.
		for i := 1; i <= failures; i++ {
			gap := a[i].at.Sub(a[i-1].at)
			if floor := (20 * time.Millisecond << (i - 1)) / 2; gap < floor {
				t.Errorf("pause %d was %s, want at least %s", i, gap, floor)
			}
		}
	})
}

// TestWebhookCrashMidBatch is the unit-level crash test: the deliverer is
// stopped while a batch is in flight (the receiver got it, the sender
// never saw the answer), and a new deliverer over the same store resumes
// from the durable cursor: that batch comes again, nothing is lost or
// reordered.
func TestWebhookCrashMidBatch(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		url := newURL(t, engine)
		db := openURL(t, url)
		f := New(db.Write, db.Dialect)
		f.PollInterval = 50 * time.Millisecond
		rc, srv := newReceiver(t)
		inFlight := make(chan struct{})
		var once sync.Once
		rc.respond = func(r *http.Request, _ string, n int, b Batch) int {
			if n == 1 { // the second batch: hold it until the sender goes
				once.Do(func() { close(inFlight) })
				<-r.Context().Done()
				return 0 // recorded as possibly applied
			}
			return http.StatusOK
		}
		appendN(t, db, "acme", 30)
		stop := startDeliver(t, f, srv.URL, nil)
		select {
		case <-inFlight:
		case <-time.After(30 * time.Second):
			t.Fatal("second batch never sent")
		}
		stop()
		if c, _ := f.Cursor(context.Background(), DefaultWebhookCursor, "acme"); c != 10 {
			t.Fatalf("cursor %d after the interrupted batch, want 10", c)
		}
		// "Restart": a new store handle and deliverer.
		db.Close()
		db2 := openURL(t, url)
		f2 := New(db2.Write, db2.Dialect)
		f2.PollInterval = 50 * time.Millisecond
		appendN(t, db2, "acme", 5) // written after the restart
		startDeliver(t, f2, srv.URL, nil)
		eventually(t, "everything delivered after the restart", delivered(t, f2, "acme", 35))
		as := rc.of("acme")
		var sent [][]int64
		for _, a := range as {
			sent = append(sent, a.seqs)
		}
		want := [][]int64{seqRange(1, 10), seqRange(11, 20), seqRange(11, 20), seqRange(21, 30), seqRange(31, 35)}
		if fmt.Sprint(sent) != fmt.Sprint(want) {
			t.Fatalf("batches sent %v\nwant %v (the interrupted one again, then the rest in order)", sent, want)
		}
		if got := applied(as); !equalSeqs(got, seqRange(1, 35)) {
			t.Fatalf("applied %v", got)
		}
	})
}

// TestWebhookOneDelivererPerTenant: two servers on one PostgreSQL database
// both run Deliver; each event is delivered once, in order, and when one
// server stops the other takes its tenants over.
func TestWebhookOneDelivererPerTenant(t *testing.T) {
	url := newURL(t, "postgres")
	dbA, dbB := openURL(t, url), openURL(t, url)
	fA, fB := New(dbA.Write, dbA.Dialect), New(dbB.Write, dbB.Dialect)
	fA.PollInterval, fB.PollInterval = 20*time.Millisecond, 20*time.Millisecond
	rc, srv := newReceiver(t)
	tenants := []string{"acme", "globex", "initech", "umbrella"}
	for _, tn := range tenants {
		appendN(t, dbA, tn, 15)
	}
	stopA := startDeliver(t, fA, srv.URL, nil)
	startDeliver(t, fB, srv.URL, nil)
	for _, tn := range tenants {
		eventually(t, tn+" delivered", delivered(t, fA, tn, 15))
	}
	stopA()
	for _, tn := range tenants {
		appendN(t, dbB, tn, 7)
	}
	for _, tn := range tenants {
		eventually(t, tn+" delivered after one server stopped", delivered(t, fB, tn, 22))
	}
	for _, tn := range tenants {
		var all []int64
		for _, a := range rc.of(tn) {
			all = append(all, a.seqs...)
		}
		if !equalSeqs(all, seqRange(1, 22)) {
			t.Errorf("%s: received %v; want each of 1..22 once, in order", tn, all)
		}
	}
}

func TestDeliverNeedsURLAndSecret(t *testing.T) {
	db := openStore(t, "sqlite")
	f := New(db.Write, db.Dialect)
	if err := f.Deliver(context.Background(), Webhook{URL: "http://127.0.0.1:1/"}); err == nil {
		t.Error("no secret accepted")
	}
}

func TestBackoff(t *testing.T) {
	min, max := time.Second, 5*time.Minute
	for n := range 20 {
		hi := min << n
		if n > 10 || hi > max {
			hi = max
		}
		for range 50 {
			d := backoff(n, min, max)
			if d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, hi/2, hi)
			}
		}
	}
	// Jitter: not always the same pause.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[backoff(3, min, max)] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter")
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"events":[{"seq":1}]}`)
	now := time.Unix(1765432100, 0)
	h := Sign(testSecret, now, body)
	if !strings.HasPrefix(h, "t=1765432100,v1=") || len(h) != len("t=1765432100,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	ok := func(secret, header string, body []byte, at time.Time) error {
		return verifyAt(secret, header, body, 5*time.Minute, at)
	}
	if err := ok(testSecret, h, body, now.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A rotated secret: the header may carry several v1 values.
	if err := ok(testSecret, Sign("old-secret-0123456789", now, body)+","+strings.Split(h, ",")[1], body, now); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"tampered body": ok(testSecret, h, []byte(`{"events":[{"seq":2}]}`), now),
		"wrong secret":  ok("another-secret-0123", h, body, now),
		"too old":       ok(testSecret, h, body, now.Add(6*time.Minute)),
		"future":        ok(testSecret, h, body, now.Add(-6*time.Minute)),
		"other time":    ok(testSecret, strings.Replace(h, "t=1765432100", "t=1765432101", 1), body, now),
		"no v1":         ok(testSecret, "t=1765432100", body, now),
		"garbage":       ok(testSecret, "sha256=abc", body, now),
		"empty secret":  ok("", h, body, now),
	} {
		if !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
	// The exported function uses the clock.
	if err := VerifySignature(testSecret, Sign(testSecret, time.Now(), body), body, 0); err != nil {
		t.Fatal(err)
	}
}
