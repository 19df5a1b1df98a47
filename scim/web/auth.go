package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Authenticator decides whether a presented bearer token may act for a
// tenant. It returns the id of the token that matched (for logs, never the
// token), ok false for any token that does not open the tenant, and an
// error only when it could not decide (the database failed).
type Authenticator interface {
	Authenticate(ctx context.Context, tenant, token string) (tokenID string, ok bool, err error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, tenant, token string) (string, bool, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, tenant, token string) (string, bool, error) {
	return f(ctx, tenant, token)
}

type tokenIDKey struct{}

// TokenID returns the id of the token that authenticated the request, or "".
func TokenID(ctx context.Context) string {
	s, _ := ctx.Value(tokenIDKey{}).(string)
	return s
}

// BearerAuth rejects requests without "Authorization: Bearer <token>" that
// auth accepts for the request's tenant (Tenants must run first). Every
// rejected token gets the same answer, whatever the reason (unknown,
// revoked, another tenant's), so a 401 tells a client nothing about other
// tenants' tokens.
func BearerAuth(auth Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, got, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			scimerr.Write(w, scimerr.Unauthorized("missing bearer token: send \"Authorization: Bearer <token>\""))
			return
		}
		ctx := r.Context()
		id, ok, err := auth.Authenticate(ctx, tenant.Must(ctx), strings.TrimSpace(got))
		if err != nil {
			log.Error("authentication failed", "method", r.Method, "path", r.URL.Path, "err", err)
			scimerr.Write(w, scimerr.Internal())
			return
		}
		if !ok {
			scimerr.Write(w, scimerr.Unauthorized("invalid bearer token"))
			return
		}
		noteLog(ctx, func(n *logNote) { n.tokenID = id })
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, tokenIDKey{}, id)))
	})
}
