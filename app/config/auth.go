package config

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimforge/scimforge/scim/web"
)

// Authentication schemes (SCIMFORGE_AUTH_SCHEMES); docs/auth.md.
const (
	SchemeBearer = "bearer" // Authorization: Bearer <token> (stored or SCIMFORGE_TOKEN)
	SchemeBasic  = "basic"  // Authorization: Basic, a token as the password
	SchemeHeader = "header" // SCIMFORGE_AUTH_HEADER: <token>
	SchemeOAuth  = "oauth"  // Authorization: Bearer <JWT> from SCIMFORGE_OAUTH_ISSUER or the tenant's issuers
)

// Auth defaults.
const (
	DefaultBasicUser     = "scim"
	DefaultMaxFailures   = 20
	DefaultFailureWindow = time.Minute
	DefaultOAuthLeeway   = time.Minute
)

// Auth is how clients authenticate. None of it is secret: the Basic
// password is a token, and a JWKS is public.
type Auth struct {
	// Schemes are the accepted schemes in the order /ServiceProviderConfig
	// lists them (the first is primary). Empty means bearer.
	Schemes []string
	// BasicUser is the Basic user name; {tenant} stands for the request's
	// tenant. Empty means DefaultBasicUser.
	BasicUser string
	// Header is the custom header's name (scheme header).
	Header string
	// OAuth: the exact issuer, accepted audiences, JWKS URL and clock
	// leeway of JWT bearer tokens (scheme oauth).
	OAuthIssuer    string
	OAuthAudiences []string
	OAuthJWKSURL   string
	OAuthLeeway    time.Duration
	// PublicDiscovery serves /ServiceProviderConfig, /Schemas and
	// /ResourceTypes without credentials.
	PublicDiscovery bool
	// MaxFailures failed authentications per FailureWindow are allowed
	// from one client address before it gets 429 (0: no limit).
	MaxFailures   int
	FailureWindow time.Duration
}

// Has reports whether scheme is enabled.
func (a *Auth) Has(scheme string) bool {
	if len(a.Schemes) == 0 {
		return scheme == SchemeBearer
	}
	for _, s := range a.Schemes {
		if s == scheme {
			return true
		}
	}
	return false
}

// authFlags registers the authentication settings on fs and returns the
// function that checks them after parsing (and after the tenancy and the
// token are known).
func authFlags(fs *flag.FlagSet, c *Config) func() error {
	a := &c.Auth
	schemes := fs.String("auth-schemes", Env("SCIMFORGE_AUTH_SCHEMES", SchemeBearer), "comma-separated accepted authentication schemes, the first primary: bearer, basic, header, oauth (SCIMFORGE_AUTH_SCHEMES)")
	fs.StringVar(&a.BasicUser, "basic-user", Env("SCIMFORGE_BASIC_USER", DefaultBasicUser), "user name of HTTP Basic ({tenant}: the request's tenant); the password is a token (SCIMFORGE_BASIC_USER)")
	fs.StringVar(&a.Header, "auth-header", Env("SCIMFORGE_AUTH_HEADER", ""), "header carrying a token, e.g. X-Api-Key, for scheme header (SCIMFORGE_AUTH_HEADER)")
	fs.StringVar(&a.OAuthIssuer, "oauth-issuer", Env("SCIMFORGE_OAUTH_ISSUER", ""), "exact iss of accepted JWTs, e.g. https://sts.windows.net/<directory id>/; tenancy none only (SCIMFORGE_OAUTH_ISSUER)")
	audiences := fs.String("oauth-audience", Env("SCIMFORGE_OAUTH_AUDIENCE", ""), "comma-separated accepted aud values of JWTs; with path or host tenancy, of tenants' issuers stored without an audience (SCIMFORGE_OAUTH_AUDIENCE)")
	fs.StringVar(&a.OAuthJWKSURL, "oauth-jwks-url", Env("SCIMFORGE_OAUTH_JWKS_URL", ""), "https URL of the issuer's signing keys; tenancy none only (SCIMFORGE_OAUTH_JWKS_URL)")
	leeway := fs.String("oauth-leeway", Env("SCIMFORGE_OAUTH_LEEWAY", "1m"), "clock skew allowed on exp, nbf and iat, at most 5m (SCIMFORGE_OAUTH_LEEWAY)")
	public := fs.String("public-discovery", Env("SCIMFORGE_PUBLIC_DISCOVERY", "false"), "true serves /ServiceProviderConfig, /Schemas and /ResourceTypes without credentials (SCIMFORGE_PUBLIC_DISCOVERY)")
	maxFail := fs.String("auth-max-failures", Env("SCIMFORGE_AUTH_MAX_FAILURES", strconv.Itoa(DefaultMaxFailures)), "failed authentications allowed per window from one address before 429; 0: no limit (SCIMFORGE_AUTH_MAX_FAILURES)")
	window := fs.String("auth-failure-window", Env("SCIMFORGE_AUTH_FAILURE_WINDOW", "1m"), "the window of SCIMFORGE_AUTH_MAX_FAILURES, e.g. 1m (SCIMFORGE_AUTH_FAILURE_WINDOW)")
	return func() error {
		return a.check(c, *schemes, *audiences, *leeway, *public, *maxFail, *window)
	}
}

func (a *Auth) check(c *Config, schemes, audiences, leeway, public, maxFail, window string) error {
	a.Schemes = nil
	for _, s := range strings.Split(schemes, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		switch s {
		case SchemeBearer, SchemeBasic, SchemeHeader, SchemeOAuth:
		default:
			return fmt.Errorf("SCIMFORGE_AUTH_SCHEMES %q: %q is not a scheme; want a comma-separated list of bearer, basic, header, oauth", schemes, s)
		}
		if a.Has(s) && len(a.Schemes) > 0 {
			return fmt.Errorf("SCIMFORGE_AUTH_SCHEMES %q: %s is listed twice", schemes, s)
		}
		a.Schemes = append(a.Schemes, s)
	}
	a.BasicUser = strings.TrimSpace(a.BasicUser)
	if a.BasicUser == "" || strings.Contains(a.BasicUser, ":") {
		return fmt.Errorf("SCIMFORGE_BASIC_USER %q: want a non-empty name without ':' (RFC 7617)", a.BasicUser)
	}
	if a.BasicUser != DefaultBasicUser && !a.Has(SchemeBasic) {
		return fmt.Errorf("SCIMFORGE_BASIC_USER is set but SCIMFORGE_AUTH_SCHEMES (%s) does not include basic", schemes)
	}
	if err := a.checkHeader(schemes); err != nil {
		return err
	}
	for _, s := range strings.Split(audiences, ",") {
		if s = strings.TrimSpace(s); s != "" {
			a.OAuthAudiences = append(a.OAuthAudiences, s)
		}
	}
	d, err := time.ParseDuration(strings.TrimSpace(leeway))
	if err != nil || d < 0 || d > 5*time.Minute {
		return fmt.Errorf("SCIMFORGE_OAUTH_LEEWAY %q: want a duration from 0 to 5m, e.g. 1m", leeway)
	}
	a.OAuthLeeway = d
	if err := a.checkOAuth(c, schemes); err != nil {
		return err
	}
	if a.PublicDiscovery, err = strconv.ParseBool(public); err != nil {
		return fmt.Errorf("SCIMFORGE_PUBLIC_DISCOVERY %q: want true or false", public)
	}
	if a.MaxFailures, err = strconv.Atoi(strings.TrimSpace(maxFail)); err != nil || a.MaxFailures < 0 || a.MaxFailures > 1_000_000 {
		return fmt.Errorf("SCIMFORGE_AUTH_MAX_FAILURES %q: want a whole number from 0 (no limit) to 1000000", maxFail)
	}
	a.FailureWindow, err = time.ParseDuration(strings.TrimSpace(window))
	if err != nil || a.FailureWindow < time.Second || a.FailureWindow > 24*time.Hour {
		return fmt.Errorf("SCIMFORGE_AUTH_FAILURE_WINDOW %q: want a duration from 1s to 24h, e.g. 1m", window)
	}
	return nil
}

func (a *Auth) checkHeader(schemes string) error {
	a.Header = strings.TrimSpace(a.Header)
	if !a.Has(SchemeHeader) {
		if a.Header != "" {
			return fmt.Errorf("SCIMFORGE_AUTH_HEADER is set but SCIMFORGE_AUTH_SCHEMES (%s) does not include header", schemes)
		}
		return nil
	}
	if a.Header == "" {
		return fmt.Errorf("SCIMFORGE_AUTH_SCHEMES includes header: set SCIMFORGE_AUTH_HEADER to the header's name, e.g. X-Api-Key")
	}
	for _, r := range a.Header {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("SCIMFORGE_AUTH_HEADER %q: want a header name of letters, digits, '-' and '_', e.g. X-Api-Key", a.Header)
		}
	}
	switch strings.ToLower(a.Header) {
	case "authorization", "proxy-authorization", "cookie", "host", "content-type", "content-length", "connection", "x-forwarded-for", "forwarded", "x-request-id":
		return fmt.Errorf("SCIMFORGE_AUTH_HEADER %q: that header has another meaning; pick one of your own, e.g. X-Api-Key", a.Header)
	}
	return nil
}

func (a *Auth) checkOAuth(c *Config, schemes string) error {
	if !a.Has(SchemeOAuth) {
		for name, v := range map[string]string{"SCIMFORGE_OAUTH_ISSUER": a.OAuthIssuer, "SCIMFORGE_OAUTH_AUDIENCE": strings.Join(a.OAuthAudiences, ","), "SCIMFORGE_OAUTH_JWKS_URL": a.OAuthJWKSURL} {
			if v != "" {
				return fmt.Errorf("%s is set but SCIMFORGE_AUTH_SCHEMES (%s) does not include oauth", name, schemes)
			}
		}
		return nil
	}
	if c.Tenancy != web.TenancyNone && c.Tenancy != "" {
		// Each tenant trusts its own issuers (scimforge tenant oauth set):
		// a JWT names no scimforge tenant, so one issuer trusted by every
		// tenant would let that identity provider act for all of them.
		// The global audience stays: a default for tenants' issuers.
		for name, v := range map[string]string{"SCIMFORGE_OAUTH_ISSUER": a.OAuthIssuer, "SCIMFORGE_OAUTH_JWKS_URL": a.OAuthJWKSURL} {
			if v != "" {
				return fmt.Errorf("%s is set, but with SCIMFORGE_TENANCY=%s each tenant trusts its own issuers (scimforge tenant oauth set --tenant NAME --issuer URL --jwks-url URL): one issuer for the whole server would let that identity provider act for every tenant", name, c.Tenancy)
			}
		}
		return a.checkJWTToken(c)
	}
	if a.OAuthIssuer == "" {
		return fmt.Errorf("SCIMFORGE_AUTH_SCHEMES includes oauth: set SCIMFORGE_OAUTH_ISSUER, e.g. https://sts.windows.net/<directory id>/")
	}
	if u, err := url.Parse(a.OAuthIssuer); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("SCIMFORGE_OAUTH_ISSUER %q: want the issuer's URL exactly as in its tokens' iss", a.OAuthIssuer)
	}
	if len(a.OAuthAudiences) == 0 {
		return fmt.Errorf("SCIMFORGE_AUTH_SCHEMES includes oauth: set SCIMFORGE_OAUTH_AUDIENCE (Entra ID's provisioning service: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621)")
	}
	if a.OAuthJWKSURL == "" {
		return fmt.Errorf("SCIMFORGE_AUTH_SCHEMES includes oauth: set SCIMFORGE_OAUTH_JWKS_URL, e.g. https://login.microsoftonline.com/<directory id>/discovery/v2.0/keys")
	}
	u, err := url.Parse(a.OAuthJWKSURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return fmt.Errorf("SCIMFORGE_OAUTH_JWKS_URL %q: want an https:// URL (http:// only on a loopback address)", a.OAuthJWKSURL)
	}
	return a.checkJWTToken(c)
}

func (a *Auth) checkJWTToken(c *Config) error {
	if web.LooksLikeJWT(c.Token) {
		return fmt.Errorf("SCIMFORGE_TOKEN has the shape of a JWT, which oauth sends to the JWT verifier: use another token (e.g. openssl rand -hex 32)")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
