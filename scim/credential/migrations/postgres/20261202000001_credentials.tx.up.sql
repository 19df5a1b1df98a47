-- Tenants and their bearer tokens (scim/credential). Keys lead with
-- tenant_id so that the tables can be distributed by tenant. Times are UTC
-- text, 2006-01-02T15:04:05.000000000Z, so text order is time order.
CREATE TABLE scimforge_tenants (
	tenant_id TEXT PRIMARY KEY,
	created TEXT NOT NULL
);

--bun:split

-- hash is the SHA-256 (hex) of the whole token; the token itself is never stored.
CREATE TABLE scimforge_tokens (
	tenant_id TEXT NOT NULL REFERENCES scimforge_tenants (tenant_id) ON DELETE CASCADE,
	id TEXT NOT NULL,
	hash TEXT NOT NULL,
	label TEXT,
	created TEXT NOT NULL,
	last_used TEXT NULL,
	revoked TEXT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, hash)
);
