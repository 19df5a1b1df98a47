package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func clearAuthEnv(t *testing.T) {
	for _, k := range []string{"SCIMFORGE_TENANCY", "SCIMFORGE_TOKEN", "SCIMFORGE_TOKEN_FILE", "SCIMFORGE_BASE_URL", "SCIMFORGE_AUTH_SCHEMES", "SCIMFORGE_BASIC_USER",
		"SCIMFORGE_AUTH_HEADER", "SCIMFORGE_OAUTH_ISSUER", "SCIMFORGE_OAUTH_AUDIENCE", "SCIMFORGE_OAUTH_JWKS_URL", "SCIMFORGE_OAUTH_LEEWAY",
		"SCIMFORGE_PUBLIC_DISCOVERY", "SCIMFORGE_AUTH_MAX_FAILURES", "SCIMFORGE_AUTH_FAILURE_WINDOW"} {
		t.Setenv(k, "")
	}
}

var oauthArgs = []string{"-oauth-issuer", "https://sts.windows.net/x/", "-oauth-audience", "8adf8e6e-67b2-4cf2-a259-e3dc5476c621, api://scim", "-oauth-jwks-url", "https://login.microsoftonline.com/x/discovery/v2.0/keys"}

func TestAuthSettings(t *testing.T) {
	clearAuthEnv(t)
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	if !slices.Equal(a.Schemes, []string{"bearer"}) || a.BasicUser != "scim" || a.PublicDiscovery || a.MaxFailures != 20 || a.FailureWindow != time.Minute || a.OAuthLeeway != time.Minute {
		t.Fatalf("defaults: %+v", a)
	}
	t.Setenv("SCIMFORGE_AUTH_SCHEMES", "oauth, Basic,header")
	t.Setenv("SCIMFORGE_AUTH_HEADER", "X-Api-Key")
	t.Setenv("SCIMFORGE_BASIC_USER", "okta")
	if c, err = Load(append([]string{"-public-discovery", "true", "-auth-max-failures", "0"}, oauthArgs...)); err != nil {
		t.Fatal(err)
	}
	a = c.Auth
	if !slices.Equal(a.Schemes, []string{"oauth", "basic", "header"}) || a.Has("bearer") || !a.Has("basic") || a.Header != "X-Api-Key" || a.BasicUser != "okta" ||
		!slices.Equal(a.OAuthAudiences, []string{"8adf8e6e-67b2-4cf2-a259-e3dc5476c621", "api://scim"}) || !a.PublicDiscovery || a.MaxFailures != 0 {
		t.Fatalf("set: %+v", a)
	}
	// http:// is allowed for a JWKS on loopback (tests, a local sidecar).
	if _, err := Load(append(slices.Clone(oauthArgs), "-oauth-jwks-url", "http://127.0.0.1:9999/keys")); err != nil {
		t.Fatal(err)
	}
	// With path or host tenancy the issuers are the tenants' own: oauth
	// needs no global issuer, and the global audience is their default.
	if c, err = Load([]string{"-tenancy", "path", "-oauth-audience", "api://scim"}); err != nil || c.Auth.Has("bearer") || !slices.Equal(c.Auth.OAuthAudiences, []string{"api://scim"}) {
		t.Fatalf("oauth with path tenancy: %+v %v", c, err)
	}
	clearAuthEnv(t)
	if _, err = Load([]string{"-tenancy", "host", "-auth-schemes", "bearer,oauth"}); err != nil {
		t.Fatalf("oauth with host tenancy, no global audience: %v", err)
	}
}

// TestAuthSettingsRefused: every bad value fails at start, naming the
// setting.
func TestAuthSettingsRefused(t *testing.T) {
	clearAuthEnv(t)
	for _, c := range []struct {
		env   map[string]string
		args  []string
		names string
	}{
		{nil, []string{"-auth-schemes", "bearer,kerberos"}, "SCIMFORGE_AUTH_SCHEMES"},
		{nil, []string{"-auth-schemes", ""}, "SCIMFORGE_AUTH_SCHEMES"},
		{nil, []string{"-auth-schemes", "basic,basic"}, "SCIMFORGE_AUTH_SCHEMES"},
		{nil, []string{"-auth-schemes", "basic", "-basic-user", "a:b"}, "SCIMFORGE_BASIC_USER"},
		{nil, []string{"-basic-user", "okta"}, "SCIMFORGE_BASIC_USER"},
		{nil, []string{"-auth-schemes", "header"}, "SCIMFORGE_AUTH_HEADER"},
		{nil, []string{"-auth-header", "X-Api-Key"}, "SCIMFORGE_AUTH_HEADER"},
		{nil, []string{"-auth-schemes", "header", "-auth-header", "X Api Key"}, "SCIMFORGE_AUTH_HEADER"},
		{nil, []string{"-auth-schemes", "header", "-auth-header", "Authorization"}, "SCIMFORGE_AUTH_HEADER"},
		{nil, oauthArgs, "SCIMFORGE_OAUTH_"},
		{nil, []string{"-auth-schemes", "oauth"}, "SCIMFORGE_OAUTH_ISSUER"},
		{nil, append([]string{"-auth-schemes", "oauth"}, oauthArgs[:2]...), "SCIMFORGE_OAUTH_AUDIENCE"},
		{nil, append([]string{"-auth-schemes", "oauth"}, oauthArgs[:4]...), "SCIMFORGE_OAUTH_JWKS_URL"},
		{nil, append(append([]string{"-auth-schemes", "oauth"}, oauthArgs...), "-oauth-jwks-url", "http://keys.example.com/keys"), "SCIMFORGE_OAUTH_JWKS_URL"},
		{nil, append(append([]string{"-auth-schemes", "oauth"}, oauthArgs...), "-oauth-issuer", "sts"), "SCIMFORGE_OAUTH_ISSUER"},
		{nil, append(append([]string{"-auth-schemes", "oauth"}, oauthArgs...), "-oauth-leeway", "1h"), "SCIMFORGE_OAUTH_LEEWAY"},
		{nil, append(append([]string{"-auth-schemes", "oauth"}, oauthArgs...), "-tenancy", "path"), "each tenant trusts its own issuers"},
		{nil, append([]string{"-auth-schemes", "oauth", "-tenancy", "host"}, oauthArgs[4:]...), "SCIMFORGE_OAUTH_JWKS_URL is set, but with SCIMFORGE_TENANCY=host"},
		{map[string]string{"SCIMFORGE_TOKEN": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2lnbmF0dXJl"}, []string{"-auth-schemes", "oauth,bearer", "-tenancy", "path"}, "SCIMFORGE_TOKEN"},
		{map[string]string{"SCIMFORGE_TOKEN": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2lnbmF0dXJl"}, append([]string{"-auth-schemes", "oauth"}, oauthArgs...), "SCIMFORGE_TOKEN"},
		{nil, []string{"-public-discovery", "maybe"}, "SCIMFORGE_PUBLIC_DISCOVERY"},
		{nil, []string{"-auth-max-failures", "-1"}, "SCIMFORGE_AUTH_MAX_FAILURES"},
		{nil, []string{"-auth-max-failures", "many"}, "SCIMFORGE_AUTH_MAX_FAILURES"},
		{nil, []string{"-auth-failure-window", "0s"}, "SCIMFORGE_AUTH_FAILURE_WINDOW"},
		{nil, []string{"-auth-failure-window", "soon"}, "SCIMFORGE_AUTH_FAILURE_WINDOW"},
		{nil, []string{"-basic-password", "x"}, "basic-password"}, // no secret flags
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		_, err := Load(c.args)
		if err == nil || !strings.Contains(err.Error(), c.names) {
			t.Errorf("%v %v: %v, want an error naming %s", c.env, c.args, err, c.names)
		}
		for k := range c.env {
			t.Setenv(k, "")
		}
	}
}
