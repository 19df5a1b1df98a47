package server

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// Metrics are the Prometheus metrics of one server, in a registry of its
// own (nothing registers globally, so several servers in one test process
// do not collide). docs/operations.md lists them. Labels are bounded: the
// route template, never the path (ids) and never the tenant (a label per
// tenant grows without limit).
type Metrics struct {
	Registry *prometheus.Registry

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	inFlight    prometheus.Gauge
	authFailed  prometheus.Counter
	rateLimited prometheus.Counter
	overloaded  prometheus.Counter
	dbRead      prometheus.Histogram
	dbTx        prometheus.Histogram
	dbStmt      *prometheus.HistogramVec
}

// dbBuckets start lower than the HTTP ones: a prepared SQLite point read
// takes tens of microseconds.
var dbBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// NewMetrics registers the process's and db's metrics.
func NewMetrics(db *sqlstore.DB) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimforge_http_requests_total",
			Help: "SCIM requests answered, by route template, operation and status code.",
		}, []string{"route", "operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scimforge_http_request_duration_seconds",
			Help:    "Time from the request's arrival to its response's end, by route template, operation and status class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "operation", "class"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "scimforge_http_requests_in_flight",
			Help: "SCIM requests being served.",
		}),
		authFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scimforge_auth_failures_total",
			Help: "Requests refused with 401 (no, wrong or revoked credential).",
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scimforge_rate_limited_total",
			Help: "Requests refused with 429 by the per-tenant, per-credential rate limit.",
		}),
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scimforge_overloaded_total",
			Help: "Requests refused with 503 because SCIMFORGE_MAX_CONCURRENT requests were being served.",
		}),
		dbRead: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "scimforge_db_read_duration_seconds",
			Help:    "Reads of resources (GET, lists, filters, member lookups) until the first row.",
			Buckets: dbBuckets,
		}),
		dbTx: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "scimforge_db_transaction_duration_seconds",
			Help:    "Write transactions, from the call to the commit (waits for a group commit batch and retries included).",
			Buckets: dbBuckets,
		}),
		dbStmt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scimforge_db_query_duration_seconds",
			Help:    "Statements run through bun (credentials, change feed, migrations, admin commands), by SQL operation.",
			Buckets: dbBuckets,
		}, []string{"operation"}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.inFlight, m.authFailed, m.rateLimited, m.overloaded, m.dbRead, m.dbTx, m.dbStmt)
	if db != nil {
		// One pool ("main") on PostgreSQL and on a SQLite file this server
		// holds (one connection); "write" and "read" pools otherwise.
		pools := map[*sql.DB]string{db.Write.DB: "main"}
		if db.Read != nil && db.Read != db.Write.DB {
			pools[db.Write.DB], pools[db.Read] = "write", "read"
		}
		for p, name := range pools {
			reg.MustRegister(collectors.NewDBStatsCollector(p, name))
		}
		db.SetTiming(func(op string, d time.Duration) {
			if op == "read" {
				m.dbRead.Observe(d.Seconds())
			} else {
				m.dbTx.Observe(d.Seconds())
			}
		})
		db.Write.AddQueryHook(stmtHook{m.dbStmt})
	}
	return m
}

// observe records a finished request (web.AccessLog calls it).
func (m *Metrics) observe(r *http.Request, o web.Outcome) {
	route := o.Route
	if route == "" {
		route = "none"
	}
	m.requests.WithLabelValues(route, o.Operation, strconv.Itoa(o.Status)).Inc()
	m.latency.WithLabelValues(route, o.Operation, statusClass(o.Status)).Observe(o.Duration.Seconds())
	if o.Status == http.StatusUnauthorized {
		m.authFailed.Inc()
	}
}

// inflight counts the requests being served around next.
func (m *Metrics) inflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		next.ServeHTTP(w, r)
	})
}

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(code int) string {
	if i := code/100 - 1; i >= 0 && i < len(classes) {
		return classes[i]
	}
	return "other"
}

// Handler serves the registry in the Prometheus text format; with token
// set, only to requests that carry it as a bearer token.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	if token == "" {
		return h
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token SCIMFORGE_METRICS_TOKEN", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// stmtHook times what runs through bun. The engine's own reads and writes
// bypass bun (prepared statements on database/sql); they are timed by
// sqlstore.SetTiming instead.
type stmtHook struct{ h *prometheus.HistogramVec }

func (s stmtHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	return ctx
}

func (s stmtHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	op := e.Operation()
	switch op {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
	default:
		op = "OTHER" // DDL, PRAGMA, BEGIN…: a bounded label
	}
	s.h.WithLabelValues(strings.ToLower(op)).Observe(time.Since(e.StartTime).Seconds())
}

// feedCollector reports how far the webhook's delivery lags: the events
// past its cursor, over all tenants, and the age of the oldest. Tenants are
// summed, not labelled (unbounded). It reads the database at most every
// feedEvery; a scrape in between gets the last figures.
type feedCollector struct {
	db     *sqlstore.DB
	cursor string
	log    *slog.Logger

	waiting, oldest *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	n       float64
	age     float64
	success bool
}

const feedEvery = 10 * time.Second

func newFeedCollector(db *sqlstore.DB, log *slog.Logger) *feedCollector {
	return &feedCollector{
		db: db, cursor: feed.DefaultWebhookCursor, log: log,
		waiting: prometheus.NewDesc("scimforge_feed_events_waiting", "Change feed events the webhook has not yet received, over all tenants.", nil, nil),
		oldest:  prometheus.NewDesc("scimforge_feed_oldest_waiting_seconds", "Age of the oldest change feed event the webhook has not yet received (0 when none waits).", nil, nil),
	}
}

func (c *feedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.waiting
	ch <- c.oldest
}

// waitingSQL reads, per tenant, the webhook cursor, the last seq and the
// time of the first event past the cursor: index seeks on the events'
// (tenant_id, seq) key, no scan. Seqs are gapless per tenant, so the last
// seq minus the cursor is the count.
const waitingSQL = `SELECT COALESCE(c.seq, 0), ` +
	`(SELECT MAX(e.seq) FROM scimforge_events e WHERE e.tenant_id = t.tenant_id), ` +
	`(SELECT e.at FROM scimforge_events e WHERE e.tenant_id = t.tenant_id AND e.seq > COALESCE(c.seq, 0) ORDER BY e.seq LIMIT 1) ` +
	`FROM scimforge_tenants t LEFT JOIN scimforge_event_cursors c ON c.name = ? AND c.tenant_id = t.tenant_id`

func (c *feedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.at) >= feedEvery {
		c.at = now
		c.success = c.read(now) == nil
	}
	if !c.success {
		return // no figures rather than wrong ones
	}
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, c.n)
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, c.age)
}

func (c *feedCollector) read(now time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.db.Query(ctx, waitingSQL, c.cursor)
	if err != nil {
		c.log.Warn("metrics: reading the change feed's backlog", "err", err)
		return err
	}
	defer rows.Close()
	var n, age float64
	for rows.Next() {
		var cur int64
		var last sql.NullInt64
		var first sql.NullString
		if err := rows.Scan(&cur, &last, &first); err != nil {
			return err
		}
		if last.Valid && last.Int64 > cur {
			n += float64(last.Int64 - cur)
		}
		if first.Valid {
			if t, err := sqlstore.ParseTime(first.String); err == nil {
				age = max(age, now.Sub(t).Seconds())
			}
		}
	}
	c.n, c.age = n, age
	return rows.Err()
}
