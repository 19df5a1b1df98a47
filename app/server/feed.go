package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// pruneEvery is how often the retention loop deletes old events; the
// first run is shortly after start, not during it.
const (
	pruneEvery = time.Hour
	pruneFirst = 10 * time.Second
)

// NewFeed returns the change feed of db with the configured hard age limit.
func NewFeed(cfg *config.Config, db *sqlstore.DB) *feed.Feed {
	f := feed.New(db.Write, db.Dialect)
	f.MaxAge = cfg.EventsMaxAge
	return f
}

// startFeed runs the change feed's background work: retention (unless
// SCIMFORGE_EVENTS_RETENTION is 0) and webhook delivery (when
// SCIMFORGE_WEBHOOK_URL is set). stop ends both and waits for them; a
// batch in flight is abandoned and delivered again at the next start.
func startFeed(cfg *config.Config, f *feed.Feed, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if cfg.EventsRetention > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			retain(ctx, f, cfg.EventsRetention, log)
		}()
	}
	if cfg.WebhookURL != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Info("delivering the change feed", "webhook", cfg.WebhookURL)
			_ = f.Deliver(ctx, feed.Webhook{URL: cfg.WebhookURL, Secret: cfg.WebhookSecret, Log: log})
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// retain prunes events older than keep every pruneEvery until ctx ends.
func retain(ctx context.Context, f *feed.Feed, keep time.Duration, log *slog.Logger) {
	t := time.NewTimer(pruneFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		n, err := f.Prune(ctx, start.Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("change feed retention", "err", err)
		case n > 0:
			log.Info("change feed retention", "deleted", n, "older_than", keep, "duration", time.Since(start))
		}
		t.Reset(pruneEvery)
	}
}
