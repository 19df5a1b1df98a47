-- The change feed (scim/feed). Times are UTC text,
-- 2006-01-02T15:04:05.000000000Z, so text order is time order.

-- One row per tenant: the seq of its last event. Append bumps it inside the
-- writing transaction, so seqs are gapless and in commit order per tenant.
-- Rows are never deleted (a seq is never reused, even after pruning).
CREATE TABLE scimforge_event_heads (
	tenant_id TEXT PRIMARY KEY,
	seq INTEGER NOT NULL
);

--bun:split

-- changed, members_added, members_removed: JSON arrays of strings, or NULL.
CREATE TABLE scimforge_events (
	tenant_id TEXT NOT NULL,
	seq INTEGER NOT NULL,
	resource_type TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	op TEXT NOT NULL,
	version INTEGER NOT NULL,
	changed TEXT,
	members_added TEXT,
	members_removed TEXT,
	at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;

--bun:split

-- Serves Prune (oldest first); at grows with seq, so inserts append at the
-- index's right edge.
CREATE INDEX scimforge_events_at ON scimforge_events (at);

--bun:split

-- Durable named cursors: consumer name's position (the last seq it has
-- processed) in tenant_id's feed. Prune keeps what a cursor has not passed.
CREATE TABLE scimforge_event_cursors (
	name TEXT NOT NULL,
	tenant_id TEXT NOT NULL,
	seq INTEGER NOT NULL,
	updated TEXT NOT NULL,
	PRIMARY KEY (name, tenant_id)
);
