package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/projection"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Paging limits (RFC 7644 §3.4.2.4, RFC 9865 §4). MaxResults is the
// default of Limits.MaxResults, which /ServiceProviderConfig advertises as
// filter.maxResults and pagination.maxPageSize; DefaultCount is
// pagination.defaultPageSize.
const (
	DefaultCount = 100
	MaxResults   = 1000
)

// ListParams are the query parameters of GET /{endpoint} (RFC 7644 §3.4.2)
// and the members of a SearchRequest (§3.4.3).
type ListParams struct {
	Filter     string
	StartIndex *int
	Count      *int
	SortBy     string
	SortOrder  string
	Attributes string
	Excluded   string
	// Cursor, when set, selects cursor paging (RFC 9865): "" asks for the
	// first page, otherwise it is a nextCursor or previousCursor. StartIndex
	// is then ignored.
	Cursor *string
}

// Projection is the attributes/excludedAttributes selection of a request.
type Projection interface {
	Default() bool
	Wants(urn, name string) bool
	ApplyJSON(body []byte) ([]byte, error)
}

func (s *Service[T]) projection(attributes, excluded string) (Projection, error) {
	if attributes == "" && excluded == "" {
		if s.returnedRequest {
			return s.defaultProj, nil
		}
		return nil, nil
	}
	p, err := projection.New(s.d.Type, attributes, excluded)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// plan is a list query compiled for one resource type.
type plan struct {
	proj  Projection
	where string // "" selects every row
	args  []any
	// sortKey is the sortBy expression (sqlfilter.SortKey); "" is the
	// default order, by creation.
	sortKey string
	desc    bool
	// none is set, in a search across resource types, when the filter names
	// an attribute this type does not have: it contributes no resources.
	// noneErr is the error a search of this type alone would return.
	none    bool
	noneErr error
	// sortUnknown is set, in such a search, when sortBy names an attribute
	// this type does not have; it keeps the default order.
	sortUnknown bool
}

// plan compiles the filter, sort and projection of p. With across set (a
// search over every resource type), an attribute unknown to this type in
// the filter makes the plan "none", and in sortBy falls back to the
// default order, instead of failing.
func (s *Service[T]) plan(p ListParams, across bool) (*plan, error) {
	proj, err := s.projection(p.Attributes, p.Excluded)
	if err != nil {
		return nil, err
	}
	pl := &plan{proj: proj}
	if p.SortBy != "" {
		switch strings.ToLower(p.SortOrder) {
		case "", "ascending":
		case "descending":
			pl.desc = true
		default:
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "sortOrder must be \"ascending\" or \"descending\", not %q", p.SortOrder)
		}
		pl.sortKey, err = s.d.Mapping.SortKey(p.SortBy, s.db.Dialect)
		if err != nil {
			if !across || !isUnknown(err) {
				return nil, scimerr.BadRequest(scimerr.InvalidValue, "sortBy %q: %v", clipText(p.SortBy), err)
			}
			pl.sortKey, pl.desc, pl.sortUnknown = "", false, true
		}
	}
	if strings.TrimSpace(p.Filter) != "" {
		expr, err := filter.ParseLimited(p.Filter, s.lim.filter())
		if err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidFilter, "filter %q: %v", clipText(p.Filter), err)
		}
		pl.where, pl.args, err = s.d.Mapping.Compile(expr, s.db.Dialect)
		if err != nil {
			e := scimerr.BadRequest(scimerr.InvalidFilter, "filter %q: %v", clipText(p.Filter), err)
			if !across || !isUnknown(err) {
				return nil, e
			}
			pl.none, pl.noneErr = true, e
		}
	}
	return pl, nil
}

func isUnknown(err error) bool {
	var fe *sqlfilter.Error
	return errors.As(err, &fe) && fe.Unknown
}

// whereSQL is ` WHERE r."tenant_id" = ? AND (<filter>)`: every list
// reads one tenant's rows (bind whereArgs).
func (pl *plan) whereSQL() string {
	if pl.where == "" {
		return ` WHERE r."tenant_id" = ?`
	}
	return ` WHERE r."tenant_id" = ? AND (` + pl.where + `)`
}

// whereArgs binds whereSQL: the context's tenant, then the filter's values.
func (pl *plan) whereArgs(ctx context.Context) []any {
	return append([]any{tenant.Must(ctx)}, pl.args...)
}

// orderBy is the total order of the plan's rows: the sort key (NULLs as
// the largest value) or the creation time, then the id.
func (pl *plan) orderBy() string {
	switch {
	case pl.sortKey == "":
		return `r."created", r."id"`
	case pl.desc:
		return pl.sortKey + ` DESC NULLS FIRST, r."id"`
	default:
		return pl.sortKey + ` ASC NULLS LAST, r."id"`
	}
}

// List implements GET /{endpoint} with filter, paging and sorting
// (RFC 7644 §3.4.2). The filter runs in SQL; an empty result is a 200 with
// totalResults 0, never a 404 (Azure AD and Okta both depend on that).
// With p.Cursor set it pages with cursors instead (RFC 9865, see cursor.go).
func (s *Service[T]) List(ctx context.Context, p ListParams) (*Response, error) {
	pl, err := s.plan(p, false)
	if err != nil {
		return nil, err
	}
	if p.Cursor != nil {
		return cursorPage(ctx, []typedPlan{{s, pl}}, s.scope(p), *p.Cursor, p.Count, s.lim.MaxResults)
	}
	startIndex, count := p.window(s.lim.MaxResults)
	var rows []keyedRow
	if count > 0 {
		if rows, err = s.rows(ctx, pl, window{offset: startIndex - 1, limit: count}); err != nil {
			return nil, err
		}
	}
	// The exact total needs a COUNT only when this page cannot tell it: a
	// full page, or a page past the end. Filter lookups by Azure AD and
	// Okta (0 or 1 hit from index 1) skip it.
	total := startIndex - 1 + len(rows)
	if (count > 0 && len(rows) == count) || len(rows) == 0 && (startIndex > 1 || count == 0) {
		if total, err = s.count(ctx, pl); err != nil {
			return nil, err
		}
	}
	b := listHead(len(rows)*1024, &total, &startIndex, len(rows))
	if b, err = s.appendResources(ctx, b, rows, pl.proj, true); err != nil {
		return nil, err
	}
	return &Response{Status: 200, Body: append(b, "]}"...)}, nil
}

// scope identifies a single-type query for cursors (see cursorHash).
func (s *Service[T]) scope(p ListParams) string {
	return s.d.Type.Name + "\x00" + p.Filter + "\x00" + p.SortBy + "\x00" + strings.ToLower(p.SortOrder)
}

// listHead starts a ListResponse body up to and including `"Resources":[`.
// total and startIndex are left out when nil (cursor pages, RFC 9865).
func listHead(capacity int, total, startIndex *int, items int, cursors ...string) []byte {
	b := make([]byte, 0, 256+capacity)
	b = append(b, `{"schemas":["`+schema.ListResponseURN+`"]`...)
	if total != nil {
		b = append(b, `,"totalResults":`...)
		b = strconv.AppendInt(b, int64(*total), 10)
	}
	if startIndex != nil {
		b = append(b, `,"startIndex":`...)
		b = strconv.AppendInt(b, int64(*startIndex), 10)
	}
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(items), 10)
	for i := 0; i+1 < len(cursors); i += 2 {
		if cursors[i+1] != "" {
			b = append(b, `,"`+cursors[i]+`":`...)
			b = appendJSONString(b, cursors[i+1])
		}
	}
	return append(b, `,"Resources":[`...)
}

// appendResources appends the representations of rows, comma-separated
// (with a leading comma unless first).
func (s *Service[T]) appendResources(ctx context.Context, b []byte, rows []keyedRow, proj Projection, first bool) ([]byte, error) {
	// Members are loaded for the whole page in one query; users' groups
	// came with the rows (see Service.columns).
	var derived map[string][]byte
	var err error
	if s.d.Members != nil && len(rows) > 0 && (proj == nil || proj.Wants("", "members")) {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.id
		}
		if derived, err = s.d.Members.fragments(ctx, s.db, ids); err != nil {
			return nil, s.readError(err)
		}
	}
	project := proj != nil && !proj.Default()
	for i, r := range rows {
		if i > 0 || !first {
			b = append(b, ',')
		}
		m := s.meta(ctx, r.id, r.version, r.created, r.last)
		p := proj
		if !project {
			if !s.mustProject(r.doc) {
				b = compose(b, r.id, r.doc, r.fragment(derived), m)
				continue
			}
			if p == nil {
				p = s.defaultProj
			}
		}
		one, err := p.ApplyJSON(compose(nil, r.id, r.doc, r.fragment(derived), m))
		if err != nil {
			return nil, s.readError(err)
		}
		b = append(b, one...)
	}
	return b, nil
}

// fragment is the derived-attribute fragment of a listed row.
func (l *loaded) fragment(batch map[string][]byte) []byte {
	if l.derivedDone {
		return l.derived
	}
	return batch[l.id]
}

// window is the 1-based start index and the page size of index paging
// (RFC 7644 §3.4.2.4): a start below 1 is 1, a count is capped to
// [0, maxResults], and no count means DefaultCount (or maxResults when
// that is lower).
func (p ListParams) window(maxResults int) (startIndex, count int) {
	startIndex, count = 1, min(DefaultCount, maxResults)
	if p.StartIndex != nil && *p.StartIndex > 1 {
		startIndex = *p.StartIndex
	}
	if p.Count != nil {
		count = max(0, min(*p.Count, maxResults))
	}
	return startIndex, count
}

// clipText shortens what a client sent for quoting in an error.
func clipText(s string) string { return scimerr.Clip(s, 100) }
