package feed

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// Webhook configures Deliver.
type Webhook struct {
	URL    string // where batches are POSTed
	Secret string // HMAC key of the signature (see SignatureHeader)

	// Client sends the requests; default: 30 s timeout, redirects not
	// followed (a 3xx is a failed delivery).
	Client *http.Client
	// Cursor is the durable cursor delivery advances (DefaultWebhookCursor).
	Cursor string
	// BatchSize bounds the events of one request (DefaultBatchSize).
	BatchSize int
	// MinBackoff and MaxBackoff bound the pause between attempts of a
	// failing batch (1 s and 5 min).
	MinBackoff, MaxBackoff time.Duration
	Log                    *slog.Logger
}

// Defaults of Webhook.
const (
	DefaultWebhookCursor = "webhook"
	DefaultBatchSize     = 100
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = 5 * time.Minute
)

// Batch is a webhook request's body: events of one tenant in seq order.
type Batch struct {
	Events []Event `json:"events"`
}

func (w *Webhook) defaults() {
	if w.Client == nil {
		w.Client = &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if w.Cursor == "" {
		w.Cursor = DefaultWebhookCursor
	}
	if w.BatchSize <= 0 {
		w.BatchSize = DefaultBatchSize
	}
	if w.MinBackoff <= 0 {
		w.MinBackoff = DefaultMinBackoff
	}
	if w.MaxBackoff < w.MinBackoff {
		w.MaxBackoff = max(DefaultMaxBackoff, w.MinBackoff)
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
}

// Deliver POSTs every tenant's events to w.URL until ctx ends (it then
// returns nil), as JSON Batches signed with w.Secret.
//
// Per tenant one batch is in flight at a time, in seq order, and the
// durable cursor w.Cursor moves past a batch only after a 2xx answer; a
// failure (an error, a timeout, any other status) is retried, with
// exponential backoff and jitter from MinBackoff to MaxBackoff, forever.
// So delivery is at least once and never out of order: after a crash or
// restart the batch that was in flight is sent again. Receivers drop events
// whose seq is not above the last one they applied for the tenant.
//
// Several servers on one PostgreSQL database may all run Deliver: a
// tenant's events are delivered by the one server that holds the tenant's
// advisory lock (pg_try_advisory_lock, on a connection it keeps for that);
// when that server stops or its connection breaks, the lock goes with the
// session and another server takes the tenant over at its next scan. A
// SQLite file has one server (it holds the file), so no lock is needed.
func (f *Feed) Deliver(ctx context.Context, w Webhook) error {
	if w.URL == "" || w.Secret == "" {
		return errors.New("feed: a webhook needs a URL and a secret")
	}
	w.defaults()
	failures := 0
	for {
		start := time.Now()
		err := f.deliverSession(ctx, &w)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > w.MaxBackoff {
			failures = 0 // it ran for a while: a new problem
		}
		d := backoff(failures, w.MinBackoff, w.MaxBackoff)
		failures++
		w.Log.Error("webhook delivery stopped; starting again", "err", err, "in", d)
		if !sleep(ctx, d) {
			return nil
		}
	}
}

// deliverSession scans for tenants with undelivered events and runs one
// worker per tenant it holds, until ctx ends or the lock connection fails.
func (f *Feed) deliverSession(ctx context.Context, w *Webhook) error {
	lk, err := f.newLocker(ctx)
	if err != nil {
		return err
	}
	// Workers stop before the locks go (deferred calls run last first).
	defer lk.close()
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	running := map[string]bool{}
	type result struct {
		tenant string
		err    error
	}
	done := make(chan result)
	// A tenant whose worker failed (not its receiver: the database) waits
	// before the next worker, so that a lasting error is no busy loop.
	fails := map[string]int{}
	hold := map[string]time.Time{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		ch := woken()
		pending, unregistered, err := f.pending(sctx, w.Cursor)
		if err != nil {
			return err
		}
		if unregistered {
			// Registered cursors keep retention from deleting events that
			// were not delivered yet.
			if err := f.register(sctx, w.Cursor); err != nil {
				return err
			}
		}
		for _, t := range pending {
			if running[t] || time.Now().Before(hold[t]) {
				continue
			}
			ok, err := lk.acquire(sctx, t)
			if err != nil {
				return err
			}
			if !ok {
				continue // another server delivers this tenant
			}
			running[t] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := f.deliverTenant(sctx, w, lk, t)
				select {
				case done <- result{t, err}:
				case <-sctx.Done():
				}
			}()
		}
		if err := lk.alive(sctx); err != nil {
			return err
		}
		timer.Reset(f.poll())
		select {
		case <-ctx.Done():
			return nil
		case r := <-done:
			delete(running, r.tenant)
			if r.err == nil {
				delete(fails, r.tenant)
				delete(hold, r.tenant)
				break
			}
			d := backoff(fails[r.tenant], w.MinBackoff, w.MaxBackoff)
			fails[r.tenant]++
			hold[r.tenant] = time.Now().Add(d)
			w.Log.Error("webhook delivery", "tenant", r.tenant, "err", r.err, "retry_in", d)
		case <-ch:
		case <-timer.C:
		}
	}
}

// pending lists the tenants whose head is past cursor; unregistered says
// that one of them has no such cursor yet.
func (f *Feed) pending(ctx context.Context, cursor string) (tenants []string, unregistered bool, err error) {
	// On SQLite the head row lags (see appendSQLite): the last event is
	// the higher of it and the tenant's highest stored seq.
	rows, err := f.db.QueryContext(ctx, `SELECT h.tenant_id, c.seq FROM scimforge_event_heads h `+
		`LEFT JOIN scimforge_event_cursors c ON c.name = ? AND c.tenant_id = h.tenant_id `+
		`WHERE h.seq > COALESCE(c.seq, 0) OR (SELECT MAX(e.seq) FROM scimforge_events e WHERE e.tenant_id = h.tenant_id) > COALESCE(c.seq, 0) `+
		`ORDER BY h.tenant_id`, cursor)
	if err != nil {
		return nil, false, fmt.Errorf("feed: pending tenants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var seq sql.NullInt64
		if err := rows.Scan(&t, &seq); err != nil {
			return nil, false, err
		}
		tenants = append(tenants, t)
		unregistered = unregistered || !seq.Valid
	}
	return tenants, unregistered, rows.Err()
}

// deliverTenant sends tenant's batches from its cursor until none is left
// (or ctx ends, or the lock is lost). It returns the database's errors;
// the receiver's are retried here.
func (f *Feed) deliverTenant(ctx context.Context, w *Webhook, lk locker, tenant string) error {
	after, err := f.Cursor(ctx, w.Cursor, tenant)
	if err != nil {
		return quiet(ctx, err)
	}
	failures := 0
	for {
		evs, err := f.Read(ctx, tenant, after, w.BatchSize)
		if err != nil {
			return quiet(ctx, err)
		}
		if len(evs) == 0 {
			return nil
		}
		first, last := evs[0].Seq, evs[len(evs)-1].Seq
		body, err := json.Marshal(Batch{Events: evs})
		if err != nil {
			return err
		}
		for {
			// Another server may have the tenant if our lock session died
			// (the session loop sees it too and starts afresh).
			if err := lk.alive(ctx); err != nil {
				return nil
			}
			err := f.post(ctx, w, body)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil // stopping: the batch is sent again at the next start
			}
			d := backoff(failures, w.MinBackoff, w.MaxBackoff)
			failures++
			w.Log.Warn("webhook delivery failed", "tenant", tenant, "first", first, "last", last, "attempt", failures, "err", err, "retry_in", d)
			if !sleep(ctx, d) {
				return nil
			}
		}
		if failures > 0 {
			w.Log.Info("webhook delivered after retries", "tenant", tenant, "first", first, "last", last, "attempts", failures+1)
		}
		failures = 0
		if err := f.Commit(ctx, w.Cursor, tenant, last); err != nil {
			// Delivered but not recorded: it is sent again later.
			return quiet(ctx, err)
		}
		after = last
	}
}

// quiet drops err when ctx has ended: stopping is not a failure.
func quiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// post sends one batch; nil only for a 2xx answer.
func (f *Feed) post(ctx context.Context, w *Webhook, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "scimforge-webhook")
	req.Header.Set(SignatureHeader, Sign(w.Secret, f.now(), body))
	resp, err := w.Client.Do(req)
	if err != nil {
		return err
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// backoff is the pause after the n-th consecutive failure (n from 0):
// min·2ⁿ capped at max, of which a random half is taken away ("equal
// jitter"), so that receivers recovering from an outage are not hit by
// every sender at once, while the pause still grows: the n+1-th pause is
// never shorter than the n-th's upper half.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// locker decides which tenants this process delivers.
type locker interface {
	// acquire reports whether this process now holds tenant.
	acquire(ctx context.Context, tenant string) (bool, error)
	// alive fails once the locks may have been lost.
	alive(ctx context.Context) error
	close()
}

func (f *Feed) newLocker(ctx context.Context) (locker, error) {
	if f.dialect != sqlfilter.Postgres {
		return soleLocker{}, nil
	}
	conn, err := f.db.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("feed: lock connection: %w", err)
	}
	return &pgLocker{conn: conn, held: map[string]bool{}}, nil
}

// soleLocker is SQLite's: the server holds the file, so it is the only
// deliverer.
type soleLocker struct{}

func (soleLocker) acquire(context.Context, string) (bool, error) { return true, nil }
func (soleLocker) alive(context.Context) error                   { return nil }
func (soleLocker) close()                                        {}

// pgLockClass is the first key of the tenants' advisory locks ("scmf");
// the second is a hash of the tenant's name. Two tenants sharing a hash
// are delivered by the same server, which is harmless. (The migration lock
// uses the one-bigint form, a separate key space.)
const pgLockClass int32 = 0x73636d66

func tenantKey(tenant string) int32 {
	h := fnv.New32a()
	h.Write([]byte(tenant))
	return int32(h.Sum32())
}

// pgLocker holds session advisory locks on one dedicated connection:
// they last as long as the session, and PostgreSQL drops them when the
// session ends, however it ends.
type pgLocker struct {
	mu     sync.Mutex
	conn   *sql.Conn
	held   map[string]bool
	broken error
}

func (l *pgLocker) acquire(ctx context.Context, tenant string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return false, l.broken
	}
	if l.held[tenant] {
		return true, nil
	}
	var ok bool
	err := l.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1::int4, $2::int4)`, pgLockClass, tenantKey(tenant)).Scan(&ok)
	if err != nil {
		l.broken = fmt.Errorf("feed: delivery lock: %w", err)
		return false, l.broken
	}
	if ok {
		l.held[tenant] = true
	}
	return ok, nil
}

func (l *pgLocker) alive(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return l.broken
	}
	if err := l.conn.PingContext(ctx); err != nil {
		l.broken = fmt.Errorf("feed: delivery lock connection: %w", err)
	}
	return l.broken
}

func (l *pgLocker) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The connection must not go back to the pool holding locks: release
	// them, or throw the connection away.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`); err != nil || l.broken != nil {
		_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	l.conn.Close()
}
