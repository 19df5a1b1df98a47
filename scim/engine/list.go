package engine

import (
	"context"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/projection"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Paging limits (RFC 7644 §3.4.2.4). MaxResults is what
// /ServiceProviderConfig advertises as filter.maxResults.
const (
	DefaultCount = 100
	MaxResults   = 1000
)

// ListParams are the query parameters of GET /{endpoint} (RFC 7644 §3.4.2).
type ListParams struct {
	Filter     string
	StartIndex *int
	Count      *int
	SortBy     string
	SortOrder  string
	Attributes string
	Excluded   string
}

// Projection is the attributes/excludedAttributes selection of a request.
type Projection interface {
	Default() bool
	Wants(urn, name string) bool
	ApplyJSON(body []byte) ([]byte, error)
}

func (s *Service[T]) projection(attributes, excluded string) (Projection, error) {
	if attributes == "" && excluded == "" && !s.returnedRequest {
		return nil, nil
	}
	p, err := projection.New(s.d.Type, attributes, excluded)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// List implements GET /{endpoint} with filter, paging and sorting
// (RFC 7644 §3.4.2). The filter runs in SQL; an empty result is a 200 with
// totalResults 0, never a 404 (Azure AD and Okta both depend on that).
func (s *Service[T]) List(ctx context.Context, p ListParams) (*Response, error) {
	proj, err := s.projection(p.Attributes, p.Excluded)
	if err != nil {
		return nil, err
	}
	where, args := "", []any(nil)
	if strings.TrimSpace(p.Filter) != "" {
		expr, err := filter.Parse(p.Filter)
		if err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidFilter, "filter %q: %v", p.Filter, err)
		}
		where, args, err = s.d.Mapping.Compile(expr, s.db.Dialect)
		if err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidFilter, "filter %q: %v", p.Filter, err)
		}
	}
	startIndex := 1
	if p.StartIndex != nil && *p.StartIndex > 1 {
		startIndex = *p.StartIndex
	}
	count := DefaultCount
	if p.Count != nil {
		count = max(0, min(*p.Count, MaxResults))
	}
	order := `r."created", r."id"`
	if p.SortBy != "" {
		desc := false
		switch strings.ToLower(p.SortOrder) {
		case "", "ascending":
		case "descending":
			desc = true
		default:
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "sortOrder must be \"ascending\" or \"descending\", not %q", p.SortOrder)
		}
		by, err := s.d.Mapping.OrderBy(p.SortBy, desc, s.db.Dialect)
		if err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "sortBy %q: %v", p.SortBy, err)
		}
		order = by + `, r."id"`
	}
	whereSQL := ""
	if where != "" {
		whereSQL = " WHERE " + where
	}
	var rows []*loaded
	if count > 0 {
		q := `SELECT ` + s.columns + ` FROM "` + s.d.Table + `" r` + whereSQL +
			" ORDER BY " + order + " LIMIT " + strconv.Itoa(count) + " OFFSET " + strconv.Itoa(startIndex-1)
		if rows, err = s.query(ctx, q, s.readArgs(ctx, args...)); err != nil {
			return nil, s.readError(err)
		}
	}
	// The exact total needs a COUNT only when this page cannot tell it: a
	// full page, or a page past the end. Filter lookups by Azure AD and
	// Okta (0 or 1 hit from index 1) skip it.
	total := startIndex - 1 + len(rows)
	if (count > 0 && len(rows) == count) || len(rows) == 0 && (startIndex > 1 || count == 0) {
		if err := s.db.QueryRow(ctx, `SELECT count(*) FROM "`+s.d.Table+`" r`+whereSQL, args...).Scan(&total); err != nil {
			return nil, s.readError(err)
		}
	}
	// Members are loaded for the whole page in one query; users' groups
	// came with the rows (see Service.columns).
	var derived map[string][]byte
	if s.d.Members != nil && (proj == nil || proj.Wants("", "members")) {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.id
		}
		if derived, err = s.d.Members.fragments(ctx, s.db, ids); err != nil {
			return nil, s.readError(err)
		}
	}
	b := make([]byte, 0, 256+len(rows)*1024)
	b = append(b, `{"schemas":["`+schema.ListResponseURN+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(startIndex), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(rows)), 10)
	b = append(b, `,"Resources":[`...)
	project := s.returnedRequest || (proj != nil && !proj.Default())
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		m := s.meta(ctx, r.id, r.version, r.created, r.last)
		if !project {
			b = compose(b, r.id, r.doc, r.fragment(derived), m)
			continue
		}
		one, err := proj.ApplyJSON(compose(nil, r.id, r.doc, r.fragment(derived), m))
		if err != nil {
			return nil, s.readError(err)
		}
		b = append(b, one...)
	}
	b = append(b, "]}"...)
	return &Response{Status: 200, Body: b}, nil
}

func (s *Service[T]) query(ctx context.Context, q string, args []any) ([]*loaded, error) {
	rs, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*loaded
	for rs.Next() {
		l, err := s.scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rs.Err()
}

// fragment is the derived-attribute fragment of a listed row.
func (l *loaded) fragment(batch map[string][]byte) []byte {
	if l.derivedDone {
		return l.derived
	}
	return batch[l.id]
}
