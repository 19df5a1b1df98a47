package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"go.yaml.in/yaml/v3"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/oauth"
	"github.com/scimforge/scimforge/scim/tenant"
	"github.com/scimforge/scimforge/scim/web"
)

// StaticTokenID names SCIMFORGE_TOKEN in logs and in the context.
const StaticTokenID = "SCIMFORGE_TOKEN"

// authenticator accepts a token for a request's tenant when the token's
// tenant is that tenant: a stored token of the tenant, or SCIMFORGE_TOKEN
// for the default tenant (static is nil with path or host tenancy).
func authenticator(static string, creds *credential.Store) web.Authenticator {
	want := []byte(static)
	return web.AuthenticatorFunc(func(ctx context.Context, reqTenant, presented string) (string, bool, error) {
		if len(want) > 0 && reqTenant == tenant.Default &&
			subtle.ConstantTimeCompare([]byte(presented), want) == 1 {
			return StaticTokenID, true, nil
		}
		name, id, ok, err := creds.Authenticate(ctx, presented)
		switch {
		case err != nil:
			return "", false, err
		case !ok:
			return "", false, fmt.Errorf("%w: not a live token (unknown, revoked or malformed)", web.ErrRefused)
		case name != reqTenant:
			return "", false, fmt.Errorf("%w: token %s of tenant %q presented for tenant %q", web.ErrRefused, id, name, reqTenant)
		}
		return id, true, nil
	})
}

// newOAuth returns the JWT verifier cfg asks for: nil when oauth is off,
// and with path or host tenancy, where each tenant's issuers are checked
// by tenantJWTAuthenticator instead. It starts fetching the keys; Ready
// says when they are loaded.
func newOAuth(cfg *config.Config, log *slog.Logger) (*oauth.Verifier, error) {
	a := &cfg.Auth
	if !a.Has(config.SchemeOAuth) || tenancy(cfg) != web.TenancyNone {
		return nil, nil
	}
	return oauth.New(oauth.Config{
		Issuer: a.OAuthIssuer, Audiences: a.OAuthAudiences, JWKSURL: a.OAuthJWKSURL, Leeway: a.OAuthLeeway, Log: log,
	})
}

// jwtAuthenticator adapts v: a JWT opens the default tenant only (the
// configuration refuses oauth with path or host tenancy). The token id in
// logs is "oauth:" and the token's subject.
func jwtAuthenticator(v *oauth.Verifier) web.Authenticator {
	return web.AuthenticatorFunc(func(ctx context.Context, reqTenant, token string) (string, bool, error) {
		if reqTenant != tenant.Default {
			return "", false, fmt.Errorf("%w: a JWT for tenant %q (oauth serves the default tenant only)", web.ErrRefused, reqTenant)
		}
		sub, err := v.Verify(ctx, token)
		if err != nil {
			return "", false, fmt.Errorf("%w: JWT: %v", web.ErrRefused, err)
		}
		return "oauth:" + sub, true, nil
	})
}

// tenantJWTAuthenticator checks a JWT against the issuers the request's
// tenant trusts (credential.Store.TenantIssuers, cached for the store's
// TTL): the token's iss, read before its signature is checked, only picks
// which stored issuer's keys verify it, and the verification checks iss
// again exactly, with aud against that issuer's audiences (none stored:
// global, SCIMFORGE_OAUTH_AUDIENCE). Keys come from pool, one key set per
// JWKS URL, loaded on first use: a tenant whose JWKS is down is refused
// (the reason logged) without touching the others.
func tenantJWTAuthenticator(creds *credential.Store, pool *oauth.Pool, global []string) web.Authenticator {
	claimsOnly := jwt.NewParser()
	return web.AuthenticatorFunc(func(ctx context.Context, reqTenant, token string) (string, bool, error) {
		trusted, err := creds.TenantIssuers(ctx, reqTenant)
		if err != nil {
			return "", false, err
		}
		if len(trusted) == 0 {
			return "", false, fmt.Errorf("%w: a JWT for tenant %q, which trusts no OAuth issuer (scimforge tenant oauth set)", web.ErrRefused, reqTenant)
		}
		var claims jwt.RegisteredClaims
		if _, _, err := claimsOnly.ParseUnverified(token, &claims); err != nil {
			return "", false, fmt.Errorf("%w: JWT: %v", web.ErrRefused, err)
		}
		i := slices.IndexFunc(trusted, func(t credential.Issuer) bool { return t.Issuer == claims.Issuer })
		if i < 0 {
			return "", false, fmt.Errorf("%w: JWT from issuer %q, which tenant %q does not trust", web.ErrRefused, claims.Issuer, reqTenant)
		}
		iss := trusted[i]
		auds := iss.Audiences
		if len(auds) == 0 {
			auds = global
		}
		if len(auds) == 0 {
			return "", false, fmt.Errorf("%w: JWT: issuer %q of tenant %q has no audience and SCIMFORGE_OAUTH_AUDIENCE is not set", web.ErrRefused, iss.Issuer, reqTenant)
		}
		keys, err := pool.Keys(iss.JWKSURL)
		if err != nil {
			return "", false, fmt.Errorf("%w: JWT: %v", web.ErrRefused, err)
		}
		sub, err := keys.Verify(ctx, token, iss.Issuer, auds)
		if err != nil {
			return "", false, fmt.Errorf("%w: JWT from issuer %q: %v", web.ErrRefused, iss.Issuer, err)
		}
		return "oauth:" + sub, true, nil
	})
}

// authOptions is web.Auth's configuration from cfg; v is the JWT verifier
// (nil without oauth, and with path or host tenancy).
func authOptions(cfg *config.Config, creds *credential.Store, v *oauth.Verifier, log *slog.Logger) (web.AuthOptions, error) {
	a := &cfg.Auth
	static := cfg.Token
	if tenancy(cfg) != web.TenancyNone {
		static = ""
	}
	o := web.AuthOptions{
		Tokens:    authenticator(static, creds),
		Bearer:    a.Has(config.SchemeBearer),
		Basic:     a.Has(config.SchemeBasic),
		BasicUser: a.BasicUser,
		Log:       log,
	}
	if o.BasicUser == "" {
		o.BasicUser = config.DefaultBasicUser
	}
	if a.Has(config.SchemeHeader) {
		o.Header = a.Header
	}
	switch {
	case !a.Has(config.SchemeOAuth):
	case tenancy(cfg) != web.TenancyNone:
		pool := oauth.NewPool(oauth.Config{Leeway: a.OAuthLeeway, Log: log}, oauth.DefaultPoolSize)
		o.JWT = tenantJWTAuthenticator(creds, pool, a.OAuthAudiences)
	case v == nil:
		return o, fmt.Errorf("oauth is enabled but no verifier was built")
	default:
		o.JWT = jwtAuthenticator(v)
	}
	if a.PublicDiscovery {
		o.Public = publicDiscovery
	}
	if a.MaxFailures > 0 {
		o.Failures = web.NewFailureLimiter(a.MaxFailures, a.FailureWindow)
	}
	return o, nil
}

// discoveryEndpoints are the endpoints SCIMFORGE_PUBLIC_DISCOVERY opens,
// lower-cased (web.CanonicalPaths, which runs after authentication, takes
// any case), with Microsoft's alias.
var discoveryEndpoints = map[string]bool{"serviceproviderconfig": true, "schemas": true, "resourcetypes": true, "serviceconfiguration": true}

// publicDiscovery: GET or HEAD of a discovery endpoint or one of its
// documents (/Schemas/{id}, /ResourceTypes/{name}).
func publicDiscovery(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, config.BasePath+"/")
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	return discoveryEndpoints[strings.ToLower(first)]
}

// docsURI documents the schemes for /ServiceProviderConfig readers.
const docsURI = "https://github.com/scimforge/scimforge/blob/main/docs/auth.md"

// authenticationSchemes are the RFC 7643 §5 entries of the configured
// schemes, in SCIMFORGE_AUTH_SCHEMES order, the first primary. The
// custom header has no RFC 7643 type: it is "apikey", as OpenAPI calls a
// key in a header of its own.
func authenticationSchemes(cfg *config.Config) []map[string]any {
	a := &cfg.Auth
	schemes := a.Schemes
	if len(schemes) == 0 {
		schemes = []string{config.SchemeBearer}
	}
	var out []map[string]any
	for _, s := range schemes {
		var e map[string]any
		switch s {
		case config.SchemeBearer:
			e = map[string]any{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
				"description": "A token sent as \"Authorization: Bearer <token>\": one created with scimforge token create, or the server's configured token.",
				"specUri":     "https://www.rfc-editor.org/info/rfc6750"}
		case config.SchemeOAuth:
			from := "from the configured issuer and for the configured audience"
			if tenancy(cfg) != web.TenancyNone {
				from = "from an issuer this tenant trusts and for its audience"
			}
			e = map[string]any{"type": "oauth2", "name": "OAuth 2.0 access token (JWT)",
				// Not the issuer or audience: with public discovery anyone would
				// learn the identity provider's directory id.
				"description": "A JWT access token sent as \"Authorization: Bearer <token>\" " + from + ", signed with RS256 or ES256 by a key the issuer publishes.",
				"specUri":     "https://www.rfc-editor.org/info/rfc6750"}
		case config.SchemeBasic:
			e = map[string]any{"type": "httpbasic", "name": "HTTP Basic",
				"description": "\"Authorization: Basic\" with the configured user name and a token as the password.",
				"specUri":     "https://www.rfc-editor.org/info/rfc7617"}
		case config.SchemeHeader:
			e = map[string]any{"type": "apikey", "name": "API key header",
				"description": fmt.Sprintf("A token sent as the value of the %s header.", a.Header)}
		default:
			continue
		}
		e["documentationUri"] = docsURI
		if len(out) == 0 {
			e["primary"] = true
		}
		out = append(out, e)
	}
	return out
}

// setAuthenticationSchemes writes them into a ServiceProviderConfig.
func setAuthenticationSchemes(cfg *config.Config) func(doc map[string]json.RawMessage) error {
	return func(doc map[string]json.RawMessage) error {
		raw, err := json.Marshal(authenticationSchemes(cfg))
		if err != nil {
			return err
		}
		doc["authenticationSchemes"] = raw
		return nil
	}
}

// specSecurity rewrites the served OpenAPI document's security to the
// configured schemes (the committed openapi.yaml declares bearer only), and
// with public discovery marks the discovery operations as open.
func specSecurity(cfg *config.Config) func(doc *yaml.Node) error {
	a := &cfg.Auth
	return func(doc *yaml.Node) error {
		schemes := map[string]any{}
		var req []map[string][]string
		for _, e := range authenticationSchemes(cfg) {
			var name string
			var s map[string]any
			desc := fmt.Sprint(e["name"], ": ", e["description"])
			switch e["type"] {
			case "oauthbearertoken":
				name, s = "bearerAuth", map[string]any{"type": "http", "scheme": "bearer", "description": desc}
			case "oauth2":
				name, s = "oauthJWT", map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": desc}
			case "httpbasic":
				name, s = "basicAuth", map[string]any{"type": "http", "scheme": "basic", "description": desc}
			case "apikey":
				name, s = "headerAuth", map[string]any{"type": "apiKey", "in": "header", "name": a.Header, "description": desc}
			}
			schemes[name] = s
			req = append(req, map[string][]string{name: {}})
		}
		var security, securitySchemes yaml.Node
		if err := security.Encode(req); err != nil {
			return err
		}
		if err := securitySchemes.Encode(schemes); err != nil {
			return err
		}
		if !yamlSet(doc, "security", &security) {
			return fmt.Errorf("openapi.yaml: no security")
		}
		components := yamlGet(doc, "components")
		if components == nil || !yamlSet(components, "securitySchemes", &securitySchemes) {
			return fmt.Errorf("openapi.yaml: no components.securitySchemes")
		}
		if !a.PublicDiscovery {
			return nil
		}
		paths := yamlGet(doc, "paths")
		for i := 0; paths != nil && i+1 < len(paths.Content); i += 2 {
			first, _, _ := strings.Cut(strings.TrimPrefix(paths.Content[i].Value, "/"), "/")
			if !discoveryEndpoints[strings.ToLower(first)] {
				continue
			}
			if get := yamlGet(paths.Content[i+1], "get"); get != nil {
				open := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
				if !yamlSet(get, "security", open) {
					get.Content = append(get.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "security"}, open)
				}
			}
		}
		return nil
	}
}

func yamlGet(m *yaml.Node, key string) *yaml.Node {
	for i := 0; m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func yamlSet(m *yaml.Node, key string, v *yaml.Node) bool {
	for i := 0; m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return true
		}
	}
	return false
}
