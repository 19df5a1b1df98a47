package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// queueWait is how long a request over SCIMFORGE_MAX_CONCURRENT waits for
// a slot before its 503: long enough to absorb a burst (a SCIM request
// takes milliseconds), short next to a client's own timeout.
const queueWait = time.Second

// Ops is the operational layer around the SCIM handler: trusted proxies,
// the concurrency cap, request deadlines, rate limits, metrics, and the
// draining state /readyz reports during shutdown.
type Ops struct {
	cfg config.Ops
	// Metrics is nil for a handler built without a server (HandlerWith
	// with no Parts.Ops, Embed): nothing serves them there.
	Metrics  *Metrics
	rate     *web.RateLimiter
	draining atomic.Bool
}

// NewOps builds the operational layer of cfg, with metrics over db (nil:
// no metrics).
func NewOps(cfg *config.Config, db *sqlstore.DB, log *slog.Logger) *Ops {
	o := &Ops{cfg: cfg.Ops, rate: web.NewRateLimiter(cfg.RateLimit, cfg.RateBurst)}
	if db != nil {
		o.Metrics = NewMetrics(db)
		if cfg.WebhookURL != "" {
			o.Metrics.Registry.MustRegister(newFeedCollector(db, log))
		}
		if o.rate != nil {
			o.rate.OnLimited = o.Metrics.rateLimited.Inc
		}
	}
	return o
}

// outer wraps the whole SCIM handler: the client's address first (every
// later layer logs or limits by it), then the access log and metrics (so
// refusals below are logged and counted), the concurrency cap and the
// request deadline.
func (o *Ops) outer(log *slog.Logger, h http.Handler) http.Handler {
	var reject func()
	if o.Metrics != nil {
		reject = o.Metrics.overloaded.Inc
	}
	h = web.RequestTimeout(o.cfg.RequestTimeout, h)
	h = web.MaxConcurrent(o.cfg.MaxConcurrent, queueWait, reject, h)
	if o.Metrics != nil {
		h = web.AccessLog(log, o.Metrics.inflight(h), o.Metrics.observe)
	} else {
		h = web.AccessLog(log, h)
	}
	return web.Proxies(o.cfg.TrustedProxies, h)
}

// afterAuth wraps what runs once the credential is known: the rate limit.
func (o *Ops) afterAuth(h http.Handler) http.Handler {
	return web.RateLimit(o.rate, h)
}

// Drain makes /readyz answer 503 from now on: the first step of a
// graceful shutdown, so load balancers stop sending new requests.
func (o *Ops) Drain() { o.draining.Store(true) }

// Draining reports whether Drain was called.
func (o *Ops) Draining() bool { return o.draining.Load() }

// Serve serves on ln until ctx ends (SIGTERM, SIGINT), then shuts down
// gracefully: /readyz answers 503 at once, new requests are still served
// for SCIMFORGE_SHUTDOWN_DELAY (load balancers take a few probes to notice),
// then the listener closes and in-flight requests get
// SCIMFORGE_SHUTDOWN_TIMEOUT to finish; what is still running then is cut
// off. Serve returns after that; the caller then closes the server (feed,
// admin socket, database) and flushes its log. tls serves HTTPS with
// s.HTTP.TLSConfig.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tls bool, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() {
		if tls {
			errc <- s.HTTP.ServeTLS(ln, "", "") // the certificate comes from TLSConfig.GetCertificate
		} else {
			errc <- s.HTTP.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	s.Ops.Drain()
	log.Info("draining: /readyz answers 503; still serving", "for", s.Ops.cfg.ShutdownDelay)
	time.Sleep(s.Ops.cfg.ShutdownDelay)
	log.Info("shutting down: no new connections; waiting for requests in flight", "at_most", s.Ops.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.Ops.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.HTTP.Shutdown(sctx); err != nil {
		s.HTTP.Close() // cut off what did not finish in time
		log.Warn("requests still running at the shutdown timeout were cut off", "err", err)
	}
	return nil
}

// serveOps puts /metrics beside h (outside the SCIM base and its
// authentication, like the probes): unauthenticated unless
// SCIMFORGE_METRICS_TOKEN is set.
func (o *Ops) serveOps(h http.Handler) http.Handler {
	if o.Metrics == nil {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.Metrics.Handler(o.cfg.MetricsToken))
	mux.Handle("/", h)
	return mux
}
