package server

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/tenant"
)

// feedRecorder appends the engine's changes to the change feed (scim/feed)
// in the write's own transaction, so an event exists exactly when its
// write committed.
type feedRecorder struct {
	dialect sqlfilter.Dialect
}

func (r feedRecorder) Record(ctx context.Context, tx bun.Tx, changes []*engine.Change) error {
	ten := tenant.Must(ctx)
	evs := make([]*feed.Event, len(changes))
	for i, c := range changes {
		evs[i] = &feed.Event{Tenant: ten, ResourceType: c.ResourceType, ID: c.ID, Op: c.Op, Version: c.Version,
			Changed: c.Changed, MembersAdded: c.MembersAdded, MembersRemoved: c.MembersRemoved, Time: c.Time}
	}
	return feed.Append(ctx, tx, r.dialect, evs...)
}

// Committed wakes this process's feed readers (long polls, webhooks).
func (feedRecorder) Committed(context.Context) { feed.Notify() }
