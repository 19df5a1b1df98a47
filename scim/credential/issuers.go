package credential

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/tenant"
)

// ErrNoIssuer is returned when a tenant does not trust the named issuer.
var ErrNoIssuer = errors.New("no such OAuth issuer")

// maxIssuersPerTenant bounds a tenant's issuers: each is a JWKS the
// server may fetch, and the list is read on every JWT presented there.
const maxIssuersPerTenant = 20

// Issuer is an OAuth 2.0 issuer a tenant trusts: a JWT presented at the
// tenant whose iss is Issuer (exactly) is verified with the keys at
// JWKSURL and must name one of Audiences (none: the server's
// SCIMFORGE_OAUTH_AUDIENCE).
type Issuer struct {
	Tenant    string    `json:"tenant"`
	Issuer    string    `json:"issuer"`
	JWKSURL   string    `json:"jwksUrl"`
	Audiences []string  `json:"audiences,omitempty"`
	Created   time.Time `json:"created"`
}

type issuerRow struct {
	bun.BaseModel `bun:"table:scimforge_oauth_issuers"`
	TenantID      string  `bun:"tenant_id,pk"`
	Issuer        string  `bun:"issuer,pk"`
	JWKSURL       string  `bun:"jwks_url"`
	Audiences     *string `bun:"audiences"`
	Created       string  `bun:"created"`
}

func (r *issuerRow) issuer() Issuer {
	i := Issuer{Tenant: r.TenantID, Issuer: r.Issuer, JWKSURL: r.JWKSURL, Created: parseTime(r.Created)}
	if r.Audiences != nil && *r.Audiences != "" {
		i.Audiences = strings.Split(*r.Audiences, ",")
	}
	return i
}

// CheckURL refuses what is not an absolute https:// URL; http:// is
// allowed on a loopback address only (a test or a local proxy), as for
// SCIMFORGE_OAUTH_JWKS_URL. what names the value in the error.
func CheckURL(what, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return fmt.Errorf("%s %q: want an https:// URL (http:// only on a loopback address)", what, v)
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

// check validates i and normalises its audiences (trimmed, no empty or
// repeated values, no commas inside one).
func (i *Issuer) check() error {
	if err := tenant.Valid(i.Tenant); err != nil {
		return err
	}
	if err := CheckURL("issuer", i.Issuer); err != nil {
		return err
	}
	if err := CheckURL("JWKS URL", i.JWKSURL); err != nil {
		return err
	}
	var auds []string
	for _, a := range i.Audiences {
		for _, p := range strings.Split(a, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(auds, p) {
				auds = append(auds, p)
			}
		}
	}
	i.Audiences = auds
	return nil
}

// SetIssuer makes tenant i.Tenant trust issuer i.Issuer with i's JWKS URL
// and audiences, replacing what was stored for that issuer. This process
// uses the new values at once, other instances within the cache TTL.
func (s *Store) SetIssuer(ctx context.Context, i Issuer) (Issuer, error) {
	if err := i.check(); err != nil {
		return Issuer{}, err
	}
	row := &issuerRow{TenantID: i.Tenant, Issuer: i.Issuer, JWKSURL: i.JWKSURL, Created: s.stamp()}
	if len(i.Audiences) > 0 {
		a := strings.Join(i.Audiences, ",")
		row.Audiences = &a
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := hasTenant(ctx, tx, i.Tenant)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("tenant %q: %w", i.Tenant, ErrNoTenant)
		}
		n, err := tx.NewSelect().Model((*issuerRow)(nil)).Where("tenant_id = ?", i.Tenant).Where("issuer <> ?", i.Issuer).Count(ctx)
		if err != nil {
			return err
		}
		if n >= maxIssuersPerTenant {
			return fmt.Errorf("tenant %q already trusts %d OAuth issuers, the most allowed", i.Tenant, n)
		}
		_, err = tx.NewInsert().Model(row).
			On("CONFLICT (tenant_id, issuer) DO UPDATE").
			Set("jwks_url = EXCLUDED.jwks_url").
			Set("audiences = EXCLUDED.audiences").
			Exec(ctx)
		return err
	})
	if err != nil {
		return Issuer{}, err
	}
	s.forgetIssuers(i.Tenant)
	return row.issuer(), nil
}

// Issuers lists the issuers tenant trusts ("": every tenant's), by
// tenant and issuer.
func (s *Store) Issuers(ctx context.Context, tenantName string) ([]Issuer, error) {
	if tenantName != "" {
		ok, err := s.HasTenant(ctx, tenantName)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("tenant %q: %w", tenantName, ErrNoTenant)
		}
	}
	return s.readIssuers(ctx, tenantName)
}

func (s *Store) readIssuers(ctx context.Context, tenantName string) ([]Issuer, error) {
	var rows []issuerRow
	q := s.db.NewSelect().Model(&rows).Order("tenant_id", "issuer")
	if tenantName != "" {
		q = q.Where("tenant_id = ?", tenantName)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, err
	}
	out := make([]Issuer, len(rows))
	for i := range rows {
		out[i] = rows[i].issuer()
	}
	return out, nil
}

// RemoveIssuer stops tenant trusting issuer: at once in this process,
// within the cache TTL on other instances.
func (s *Store) RemoveIssuer(ctx context.Context, tenantName, issuer string) error {
	res, err := s.db.NewDelete().Model((*issuerRow)(nil)).
		Where("tenant_id = ?", tenantName).Where("issuer = ?", issuer).Exec(ctx)
	if err != nil {
		return err
	}
	s.forgetIssuers(tenantName)
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("issuer %q of tenant %q: %w", issuer, tenantName, ErrNoIssuer)
	}
	return nil
}

// TenantIssuers returns the issuers tenant trusts, for authentication:
// read from the database at most once per cache TTL per tenant (a tenant
// without issuers too), so a JWT costs no query in the steady state, and
// an issuer removed by another instance stops working within the TTL.
func (s *Store) TenantIssuers(ctx context.Context, tenantName string) ([]Issuer, error) {
	now := s.now()
	s.mu.Lock()
	c, hit := s.issuers[tenantName]
	s.mu.Unlock()
	if hit && now.Before(c.until) {
		return c.list, nil
	}
	list, err := s.readIssuers(ctx, tenantName)
	if err != nil {
		return nil, fmt.Errorf("read the OAuth issuers of tenant %q: %w", tenantName, err)
	}
	if s.ttl > 0 {
		s.mu.Lock()
		if len(s.issuers) >= maxCached {
			clear(s.issuers)
		}
		s.issuers[tenantName] = cachedIssuers{list: list, until: now.Add(s.ttl)}
		s.mu.Unlock()
	}
	return list, nil
}

type cachedIssuers struct {
	list  []Issuer
	until time.Time
}

func (s *Store) forgetIssuers(tenantName string) {
	s.mu.Lock()
	delete(s.issuers, tenantName)
	s.mu.Unlock()
}
