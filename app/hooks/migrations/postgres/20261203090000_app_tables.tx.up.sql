-- The example application's own tables, written by the hooks in app/hooks
-- inside SCIM's write transactions (so they never drift from what was
-- provisioned). Replace them with your application's tables.

-- Sessions of the application's users; a deactivated or deleted user's
-- sessions are revoked (hooks.User).
CREATE TABLE app_sessions (
	tenant_id TEXT NOT NULL,
	session_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	created TEXT NOT NULL,
	PRIMARY KEY (tenant_id, session_id)
);

--bun:split

CREATE INDEX app_sessions_user ON app_sessions (tenant_id, user_id);

--bun:split

-- Which users are in which groups, kept in step by hooks.Group's
-- membership hooks (access checks in the application read it).
CREATE TABLE app_group_members (
	tenant_id TEXT NOT NULL,
	group_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, group_id, user_id)
);

--bun:split

CREATE INDEX app_group_members_user ON app_group_members (tenant_id, user_id);
