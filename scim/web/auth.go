package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Authenticator decides whether a presented token may act for a tenant.
// It returns the id of the credential that matched (for logs, never the
// token), ok false for any token that does not open the tenant, and an
// error only when it could not decide (the database failed). An error
// wrapping ErrRefused is a refusal too (ok false); its text says why, for
// the log only.
type Authenticator interface {
	Authenticate(ctx context.Context, tenant, token string) (tokenID string, ok bool, err error)
}

// ErrRefused wraps the reason an Authenticator refused a credential.
var ErrRefused = errors.New("credential refused")

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, tenant, token string) (string, bool, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, tenant, token string) (string, bool, error) {
	return f(ctx, tenant, token)
}

type tokenIDKey struct{}

// TokenID returns the id of the credential that authenticated the request,
// or "".
func TokenID(ctx context.Context) string {
	s, _ := ctx.Value(tokenIDKey{}).(string)
	return s
}

// AuthOptions says which credentials Auth accepts. Every scheme carries a
// token: an opaque one (checked by Tokens) or, when JWT is set, a JWT
// (three base64url parts, checked by JWT).
type AuthOptions struct {
	// Tokens checks opaque tokens (stored tokens, a static token).
	Tokens Authenticator
	// JWT checks tokens shaped like a JWT; nil: OAuth is off and such
	// tokens go to Tokens like any other.
	JWT Authenticator
	// Bearer accepts opaque tokens in "Authorization: Bearer <token>"
	// (JWTs are accepted there whenever JWT is set).
	Bearer bool
	// Basic accepts "Authorization: Basic" with user name BasicUser
	// ({tenant} stands for the request's tenant) and a token as password.
	Basic     bool
	BasicUser string
	// Header names a header whose whole value is a token ("" : none).
	Header string
	// Public lets a request through without credentials (nil: none).
	Public func(r *http.Request) bool
	// Failures slows addresses that fail repeatedly (nil: never).
	Failures *FailureLimiter
	Log      *slog.Logger
}

// Realm is the realm of every challenge.
const Realm = "scim"

// Challenges are the WWW-Authenticate values of a 401: one per scheme.
func (o *AuthOptions) Challenges() []string {
	var c []string
	if o.Bearer || o.JWT != nil {
		c = append(c, `Bearer realm="`+Realm+`"`)
	}
	if o.Basic {
		c = append(c, `Basic realm="`+Realm+`", charset="UTF-8"`)
	}
	if o.Header != "" {
		// No registered HTTP scheme exists for a token in a header of its
		// own; the challenge names the header so a person can tell.
		c = append(c, `ApiKey realm="`+Realm+`", header="`+o.Header+`"`)
	}
	return c
}

// detail is the one 401 detail, whatever failed: which credentials the
// server takes (the configuration, not the reason).
func (o *AuthOptions) detail() string {
	var ways []string
	if o.Bearer || o.JWT != nil {
		ways = append(ways, `"Authorization: Bearer <token>"`)
	}
	if o.Basic {
		ways = append(ways, `"Authorization: Basic" with a token as the password`)
	}
	if o.Header != "" {
		ways = append(ways, `"`+o.Header+`: <token>"`)
	}
	return "authentication required: the request has no valid credentials; send " + strings.Join(ways, " or ")
}

// BearerAuth is Auth with bearer tokens only.
func BearerAuth(auth Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return Auth(AuthOptions{Tokens: auth, Bearer: true, Log: log}, next)
}

// Auth rejects requests without a credential that opens the request's
// tenant (Tenants must run first). Every refused request gets the same
// 401, with a challenge for each scheme, whatever the reason (missing,
// unknown, revoked, expired, another tenant's, a bad signature): the
// reason goes to the log at info, never to the client. An address with
// too many recent failures gets 429 with Retry-After instead, before its
// credential is looked at (see FailureLimiter).
func Auth(o AuthOptions, next http.Handler) http.Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	challenges, detail := o.Challenges(), o.detail()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Public != nil && o.Public(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		tn := tenant.Must(ctx)
		addr := authClientAddr(r)
		c := o.credential(r)
		if o.Failures != nil {
			if wait, blocked := o.Failures.blocked(addr); blocked && !o.Failures.recentlyGood(tn, c.raw) {
				o.Log.Debug("authentication slowed: too many failures from this address", "client", addr, "tenant", tn, "retry_after", wait)
				e := scimerr.New(http.StatusTooManyRequests, "", "too many failed authentication attempts from this address; retry after %d s", retrySeconds(wait))
				e.Header = http.Header{"Retry-After": {strconv.Itoa(retrySeconds(wait))}}
				scimerr.Write(w, e)
				return
			}
		}
		id, ok, reason, err := o.check(ctx, tn, c)
		if err != nil {
			o.Log.Error("authentication could not be decided", "method", r.Method, "path", r.URL.Path, "scheme", c.scheme, "err", err)
			scimerr.Write(w, scimerr.Internal())
			return
		}
		if !ok {
			if o.Failures != nil {
				o.Failures.fail(addr)
			}
			o.Log.Info("authentication failed", "scheme", c.scheme, "tenant", tn, "client", addr, "reason", reason)
			e := scimerr.New(http.StatusUnauthorized, "", "%s", detail)
			e.Header = http.Header{"WWW-Authenticate": challenges}
			scimerr.Write(w, e)
			return
		}
		if o.Failures != nil {
			o.Failures.good(tn, c.raw)
		}
		noteLog(ctx, func(n *logNote) { n.tokenID = id })
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, tokenIDKey{}, id)))
	})
}

// presented is the credential a request carries for an enabled scheme.
type presented struct {
	scheme string // bearer, basic, header; "" when none
	raw    string // the header value as sent (the key of recentlyGood)
	token  string
	user   string // Basic only
	bad    string // why the credential is unusable, when it is
}

// credential finds the request's credential: the Authorization header
// when its scheme is enabled, else the custom header. Only one is checked,
// so one request counts as at most one failure.
func (o *AuthOptions) credential(r *http.Request) presented {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		switch {
		case strings.EqualFold(scheme, "Bearer") && (o.Bearer || o.JWT != nil):
			return presented{scheme: "bearer", raw: h, token: strings.TrimSpace(rest)}
		case strings.EqualFold(scheme, "Basic") && o.Basic:
			user, pass, ok := r.BasicAuth()
			if !ok {
				return presented{scheme: "basic", raw: h, bad: "malformed Basic credentials"}
			}
			return presented{scheme: "basic", raw: h, token: pass, user: user}
		}
	}
	if o.Header != "" {
		if v := r.Header.Get(o.Header); v != "" {
			return presented{scheme: "header", raw: v, token: strings.TrimSpace(v)}
		}
	}
	return presented{}
}

// check decides c for tenant tn; reason says why it was refused.
func (o *AuthOptions) check(ctx context.Context, tn string, c presented) (id string, ok bool, reason string, err error) {
	switch {
	case c.scheme == "":
		return "", false, "no credentials for an enabled scheme", nil
	case c.bad != "":
		return "", false, c.bad, nil
	case c.token == "":
		return "", false, "empty token", nil
	case c.scheme == "basic":
		want := strings.ReplaceAll(o.BasicUser, TenantPlaceholder, tn)
		if subtle.ConstantTimeCompare([]byte(c.user), []byte(want)) != 1 {
			return "", false, "wrong Basic user name", nil
		}
	}
	auth := o.Tokens
	if o.JWT != nil && LooksLikeJWT(c.token) {
		auth = o.JWT
	} else if c.scheme == "bearer" && !o.Bearer {
		return "", false, "an opaque bearer token, and only JWTs (oauth) are enabled", nil
	}
	if auth == nil {
		return "", false, "no authenticator", nil
	}
	id, ok, err = auth.Authenticate(ctx, tn, c.token)
	switch {
	case errors.Is(err, ErrRefused):
		return "", false, err.Error(), nil
	case err != nil:
		return "", false, "", err
	case !ok:
		return "", false, "unknown, revoked or another tenant's token", nil
	}
	return id, true, "", nil
}

// LooksLikeJWT reports whether s has a JWS compact serialization's shape:
// three base64url parts separated by dots, the first two non-empty.
// Opaque tokens (scimforge's sfg_… tokens) have no dots.
func LooksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		for _, c := range p {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
