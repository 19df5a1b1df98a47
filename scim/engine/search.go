package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/scimforge/scimforge/scim/projection"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

var _ Searchable = (*Service[struct{}])(nil)

// SearchRequest is the body of POST /{endpoint}/.search and POST /.search
// (RFC 7644 §3.4.3), with RFC 9865's cursor. Member names match without
// case (RFC 7643 §2.1). "schemas" may be left out (lenient: several
// clients omit it); when present it must list the SearchRequest URN.
type SearchRequest struct {
	Schemas            []string
	Attributes         []string
	ExcludedAttributes []string
	Filter             string
	SortBy             string
	SortOrder          string
	StartIndex         *int
	Count              *int
	Cursor             *string
}

// UnmarshalJSON decodes a SearchRequest; a member of the wrong type is a
// 400 invalidValue naming it, and unknown members are ignored (RFC 7644
// §3.4.3 lists the members; extensions may add more).
func (r *SearchRequest) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return scimerr.BadRequest(scimerr.InvalidSyntax, "the SearchRequest must be a JSON object")
	}
	*r = SearchRequest{}
	seen := map[string]bool{}
	for k, v := range m {
		name := strings.ToLower(k)
		if seen[name] {
			return scimerr.BadRequest(scimerr.InvalidSyntax, "SearchRequest member %q appears twice (member names are case-insensitive)", k)
		}
		seen[name] = true
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue // null is "not present" (RFC 7643 §2.5)
		}
		var err error
		switch name {
		case "schemas":
			err = strict(v, &r.Schemas)
		case "attributes":
			err = strict(v, &r.Attributes)
		case "excludedattributes":
			err = strict(v, &r.ExcludedAttributes)
		case "filter":
			err = strict(v, &r.Filter)
		case "sortby":
			err = strict(v, &r.SortBy)
		case "sortorder":
			err = strict(v, &r.SortOrder)
		case "startindex":
			err = strict(v, &r.StartIndex)
		case "count":
			err = strict(v, &r.Count)
		case "cursor":
			err = strict(v, &r.Cursor)
		default:
			continue
		}
		if err != nil {
			want := map[string]string{
				"schemas": "an array of strings", "attributes": "an array of attribute paths (strings)",
				"excludedattributes": "an array of attribute paths (strings)", "startindex": "an integer", "count": "an integer",
			}[name]
			if want == "" {
				want = "a string"
			}
			return scimerr.BadRequest(scimerr.InvalidValue, "SearchRequest member %q must be %s", k, want)
		}
	}
	if r.Schemas != nil && !slices.ContainsFunc(r.Schemas, func(s string) bool { return strings.EqualFold(s, schema.SearchRequestURN) }) {
		return scimerr.BadRequest(scimerr.InvalidSyntax, "a SearchRequest's schemas must be [%q]", schema.SearchRequestURN)
	}
	return nil
}

// strict decodes one member; a number with a fraction does not fit an int.
func strict(v json.RawMessage, dst any) error {
	d := json.NewDecoder(bytes.NewReader(v))
	return d.Decode(dst)
}

// params turns the request into list parameters for one resource type.
func (r *SearchRequest) params() (ListParams, error) {
	for _, list := range [][]string{r.Attributes, r.ExcludedAttributes} {
		for _, a := range list {
			if strings.Contains(a, ",") || strings.TrimSpace(a) == "" {
				return ListParams{}, scimerr.BadRequest(scimerr.InvalidValue, "attributes and excludedAttributes hold one attribute path per array element, not %q", a)
			}
		}
	}
	return ListParams{
		Filter: r.Filter, StartIndex: r.StartIndex, Count: r.Count,
		SortBy: r.SortBy, SortOrder: r.SortOrder,
		Attributes: strings.Join(r.Attributes, ","), Excluded: strings.Join(r.ExcludedAttributes, ","),
		Cursor: r.Cursor,
	}, nil
}

func emptySearch() error {
	return scimerr.BadRequest(scimerr.InvalidSyntax, "the request body is empty; send a SearchRequest (RFC 7644 §3.4.3), e.g. {\"schemas\":[%q],\"filter\":\"userName sw \\\"a\\\"\"}", schema.SearchRequestURN)
}

// Search implements POST /{endpoint}/.search (RFC 7644 §3.4.3): the same
// query and response as GET /{endpoint}, with the parameters in the body.
func (s *Service[T]) Search(ctx context.Context, r *SearchRequest) (*Response, error) {
	if r == nil {
		return nil, emptySearch()
	}
	p, err := r.params()
	if err != nil {
		return nil, err
	}
	return s.List(ctx, p)
}

// SearchAll implements POST /.search at the root (RFC 7644 §3.4.3): one
// query over every resource type, in the order given (the order of
// /ResourceTypes). Results are the concatenation of each type's results in
// its usual order; startIndex/count (or cursors) page over the
// concatenation and totalResults is the sum.
//
// An attribute a resource type does not have cannot match it: in the
// filter that type contributes nothing, in sortBy it keeps its default
// order, and in attributes/excludedAttributes it is ignored for that type.
// Only an attribute that no type has is an error (400 invalidFilter, or
// invalidValue for sortBy and the attribute lists), as for one type.
func SearchAll(ctx context.Context, r *SearchRequest, types ...Searchable) (*Response, error) {
	if r == nil {
		return nil, emptySearch()
	}
	p, err := r.params()
	if err != nil {
		return nil, err
	}
	plans := make([]typedPlan, 0, len(types))
	var unknownFilter error
	sortKnown := false
	var names []string
	for _, s := range types {
		tp := p
		if tp.Attributes, err = known(s.Type(), r.Attributes, true); err != nil {
			return nil, err
		}
		if tp.Excluded, err = known(s.Type(), r.ExcludedAttributes, false); err != nil {
			return nil, err
		}
		pl, err := s.plan(tp, true)
		if err != nil {
			return nil, err
		}
		if pl.none && unknownFilter == nil {
			unknownFilter = pl.noneErr
		}
		sortKnown = sortKnown || !pl.sortUnknown
		plans = append(plans, typedPlan{s, pl})
		names = append(names, s.Type().Name)
	}
	if !slices.ContainsFunc(plans, func(tp typedPlan) bool { return !tp.pl.none }) && unknownFilter != nil {
		return nil, unknownFilter
	}
	if !sortKnown && len(plans) > 0 {
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "sortBy %q: no resource type has this attribute", p.SortBy)
	}
	if err := everyPathKnown(types, r); err != nil {
		return nil, err
	}
	if p.Cursor != nil {
		scope := "/.search\x00" + strings.Join(names, ",") + "\x00" + p.Filter + "\x00" + p.SortBy + "\x00" + strings.ToLower(p.SortOrder)
		return cursorPage(ctx, plans, scope, *p.Cursor, p.Count, maxResults(types))
	}
	return indexPage(ctx, plans, p, maxResults(types))
}

// indexPage answers an index-paged search across resource types.
func indexPage(ctx context.Context, plans []typedPlan, p ListParams, maxResults int) (*Response, error) {
	startIndex, count := p.window(maxResults)
	total, skip := 0, startIndex-1
	var rows []typedRow
	for t, tp := range plans {
		if tp.pl.none {
			continue
		}
		n, err := tp.s.count(ctx, tp.pl)
		if err != nil {
			return nil, err
		}
		total += n
		if skip >= n {
			skip -= n
			continue
		}
		if want := count - len(rows); want > 0 {
			rs, err := tp.s.rows(ctx, tp.pl, window{offset: skip, limit: want})
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				rows = append(rows, typedRow{t, r})
			}
		}
		skip = 0
	}
	b := listHead(len(rows)*1024, &total, &startIndex, len(rows))
	return finishPage(ctx, b, plans, rows)
}

// known returns the paths of list (attributes when include, else
// excludedAttributes) that rt has, comma-separated. When none is known but
// some were asked for, attributes becomes "id": the resource's "always"
// attributes only, not its default set.
func known(rt *schema.ResourceType, list []string, include bool) (string, error) {
	var keep []string
	for _, a := range list {
		var err error
		if include {
			_, err = projection.New(rt, a, "")
		} else {
			_, err = projection.New(rt, "", a)
		}
		if err == nil {
			keep = append(keep, a)
		}
	}
	if include && len(keep) == 0 && len(list) > 0 {
		return "id", nil
	}
	return strings.Join(keep, ","), nil
}

// everyPathKnown rejects an attribute path that no resource type has.
func everyPathKnown(types []Searchable, r *SearchRequest) error {
	check := func(a string, include bool) error {
		var first error
		for _, s := range types {
			var err error
			if include {
				_, err = projection.New(s.Type(), a, "")
			} else {
				_, err = projection.New(s.Type(), "", a)
			}
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
		return first
	}
	for _, a := range r.Attributes {
		if err := check(a, true); err != nil {
			return err
		}
	}
	for _, a := range r.ExcludedAttributes {
		if err := check(a, false); err != nil {
			return err
		}
	}
	return nil
}

// maxResults is the page limit of a search across types: every service of
// a server shares one Env, so the first type's is everyone's.
func maxResults(types []Searchable) int {
	if len(types) == 0 {
		return MaxResults
	}
	return types[0].limits().MaxResults
}
