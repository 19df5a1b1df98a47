-- The change feed (scim/feed). Times are UTC text,
-- 2006-01-02T15:04:05.000000000Z, so text order is time order.

-- One row per tenant: the seq of its last event. Append bumps it inside the
-- writing transaction and its row lock is held until commit, so seqs are
-- gapless and in commit order per tenant. Rows are never deleted (a seq is
-- never reused, even after pruning).
CREATE TABLE scimforge_event_heads (
	tenant_id TEXT COLLATE "C" PRIMARY KEY,
	seq BIGINT NOT NULL
);

--bun:split

-- changed, members_added, members_removed: JSON arrays of strings, or NULL.
CREATE TABLE scimforge_events (
	tenant_id TEXT COLLATE "C" NOT NULL,
	seq BIGINT NOT NULL,
	resource_type TEXT COLLATE "C" NOT NULL,
	resource_id TEXT COLLATE "C" NOT NULL,
	op TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL,
	changed TEXT,
	members_added TEXT,
	members_removed TEXT,
	at TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);

--bun:split

-- Serves Prune (oldest first); at grows with seq, so inserts append at the
-- index's right edge.
CREATE INDEX scimforge_events_at ON scimforge_events (at);

--bun:split

-- Durable named cursors: consumer name's position (the last seq it has
-- processed) in tenant_id's feed. Prune keeps what a cursor has not passed.
CREATE TABLE scimforge_event_cursors (
	name TEXT COLLATE "C" NOT NULL,
	tenant_id TEXT COLLATE "C" NOT NULL,
	seq BIGINT NOT NULL,
	updated TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (name, tenant_id)
);
