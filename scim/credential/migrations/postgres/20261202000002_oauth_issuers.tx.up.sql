-- OAuth 2.0 issuers a tenant trusts (scim/credential, docs/auth.md): a JWT
-- presented at the tenant must carry one of these iss values exactly and be
-- signed by a key from that issuer's jwks_url. audiences is a
-- comma-separated list; NULL means SCIMFORGE_OAUTH_AUDIENCE. Times as in
-- scimforge_tenants.
CREATE TABLE scimforge_oauth_issuers (
	tenant_id TEXT NOT NULL REFERENCES scimforge_tenants (tenant_id) ON DELETE CASCADE,
	issuer TEXT NOT NULL,
	jwks_url TEXT NOT NULL,
	audiences TEXT NULL,
	created TEXT NOT NULL,
	PRIMARY KEY (tenant_id, issuer)
);
