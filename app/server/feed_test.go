package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// TestFeedDeliveryStopsWithServer: the server applies the feed's
// migrations and delivers to SCIMFORGE_WEBHOOK_URL; Close does not wait
// for a receiver that hangs, and the batch it never answered is still
// undelivered afterwards (it goes out again at the next start).
func TestFeedDeliveryStopsWithServer(t *testing.T) {
	got := make(chan struct{}, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // then the server notices the client going
		got <- struct{}{}
		<-r.Context().Done() // never answers
	}))
	defer hook.Close()
	url := "sqlite://" + filepath.Join(t.TempDir(), "f.db")
	cfg := &config.Config{DatabaseURL: url, Token: "feed-test-token-0123456789", EventsRetention: 7 * 24 * time.Hour,
		WebhookURL: hook.URL, WebhookSecret: "feed-test-secret-0123456789"}
	srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = srv.DB.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return feed.Append(ctx, tx, srv.DB.Dialect, &feed.Event{Tenant: "default", ResourceType: "User", ID: "u1", Op: feed.OpCreate, Version: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	feed.Notify()
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery attempt")
	}
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s", d)
	}
	db, _, err := Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := feed.New(db.Write, db.Dialect)
	if c, err := f.Cursor(context.Background(), feed.DefaultWebhookCursor, "default"); err != nil || c != 0 {
		t.Fatalf("webhook cursor %d, %v after an unanswered batch; want 0", c, err)
	}
	if evs, err := f.Read(context.Background(), "default", 0, 10); err != nil || len(evs) != 1 {
		t.Fatalf("events %+v, %v", evs, err)
	}
}
