package engine

import (
	"context"
	"slices"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Searchable is a resource type's service as a search across resource
// types (POST /.search) sees it. *Service[T] implements it; the methods
// are unexported because only this package pages.
type Searchable interface {
	Type() *schema.ResourceType
	limits() Limits
	plan(p ListParams, across bool) (*plan, error)
	count(ctx context.Context, pl *plan) (int, error)
	rows(ctx context.Context, pl *plan, w window) ([]keyedRow, error)
	appendResources(ctx context.Context, b []byte, rows []keyedRow, proj Projection, first bool) ([]byte, error)
}

// typedPlan is one resource type's part of a search.
type typedPlan struct {
	s  Searchable
	pl *plan
}

// typedRow is a row with the index of its resource type in the search.
type typedRow struct {
	t int
	keyedRow
}

// cursorCount validates count for cursor paging: RFC 9865 §2.3 makes a
// count outside 0..maxPageSize a 400 invalidCount (index paging clamps it
// instead, as RFC 7644 §3.4.2.4 asks).
func cursorCount(count *int, maxResults int) (int, error) {
	if count == nil {
		return min(DefaultCount, maxResults), nil
	}
	if *count < 0 || *count > maxResults {
		return 0, scimerr.BadRequest(scimerr.InvalidCount, "count must be between 0 and %d (pagination.maxPageSize) with cursor paging, not %d", maxResults, *count)
	}
	return *count, nil
}

// cursorPage answers a cursor-paged list or search (RFC 9865) over the
// concatenation of the plans' results, in plan order. scope identifies the
// query (see cursorHash); cursor is "" for the first page.
//
// A page is read with at most one keyset query per resource type it spans
// (LIMIT count+1: the extra row says whether a next page exists). The
// first page also carries totalResults, one COUNT per type; later pages
// leave it out, as RFC 9865 allows, so that no page costs more than its
// own rows.
func cursorPage(ctx context.Context, plans []typedPlan, scope, cursor string, countParam *int, maxResults int) (*Response, error) {
	count, err := cursorCount(countParam, maxResults)
	if err != nil {
		return nil, err
	}
	var anchor *position
	if cursor != "" {
		p, err := decodeCursor(scope, cursor, len(plans))
		if err != nil {
			return nil, err
		}
		anchor = &p
	}
	var rows []typedRow
	var next, prev string
	if count == 0 {
		// count=0 asks for totalResults only (RFC 7644 §3.4.2.4); cursors
		// need at least one row to point at.
		anchor, cursor = nil, ""
	} else if anchor != nil && anchor.back {
		if rows, err = collect(ctx, plans, anchor, count+1); err != nil {
			return nil, err
		}
		switch {
		case len(rows) > count:
			// More rows before these: the page has a predecessor.
			rows = rows[:count]
			slices.Reverse(rows)
			prev = cursorAt(scope, rows[0], true)
			next = cursorAt(scope, rows[len(rows)-1], false)
		case len(rows) > 0:
			// The walk back reached the start: this is the first page, maybe
			// short (rows inserted since cannot be added without returning
			// rows of the next page twice), and has no previousCursor.
			slices.Reverse(rows)
			next = cursorAt(scope, rows[len(rows)-1], false)
		default:
			// Nothing before the anchor any more (deleted): the first page.
			anchor = nil
		}
	}
	if count > 0 && (anchor == nil || !anchor.back) {
		if rows, err = collect(ctx, plans, anchor, count+1); err != nil {
			return nil, err
		}
		if len(rows) > count {
			rows = rows[:count]
			next = cursorAt(scope, rows[len(rows)-1], false)
		}
		if anchor != nil && len(rows) > 0 {
			prev = cursorAt(scope, rows[0], true)
		}
	}
	var total *int
	if cursor == "" {
		n := 0
		for _, tp := range plans {
			if tp.pl.none {
				continue
			}
			c, err := tp.s.count(ctx, tp.pl)
			if err != nil {
				return nil, err
			}
			n += c
		}
		total = &n
	}
	b := listHead(len(rows)*1024, total, nil, len(rows), "nextCursor", next, "previousCursor", prev)
	return finishPage(ctx, b, plans, rows)
}

// finishPage appends the rows, grouped by resource type, and closes the body.
func finishPage(ctx context.Context, b []byte, plans []typedPlan, rows []typedRow) (*Response, error) {
	first := true
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].t == rows[i].t {
			j++
		}
		part := make([]keyedRow, j-i)
		for k := range part {
			part[k] = rows[i+k].keyedRow
		}
		tp := plans[rows[i].t]
		var err error
		if b, err = tp.s.appendResources(ctx, b, part, tp.pl.proj, first); err != nil {
			return nil, err
		}
		first = false
		i = j
	}
	return &Response{Status: 200, Body: append(b, "]}"...)}, nil
}

func cursorAt(scope string, r typedRow, back bool) string {
	return encodeCursor(scope, position{back: back, t: r.t, key: r.key, id: r.id})
}

// collect reads up to limit rows after the anchor (from the start when it
// is nil), crossing into the following resource types, or, when
// anchor.back, the rows before it nearest first, crossing into the
// preceding ones.
func collect(ctx context.Context, plans []typedPlan, anchor *position, limit int) ([]typedRow, error) {
	var out []typedRow
	step, t := 1, 0
	if anchor != nil {
		t = anchor.t
		if anchor.back {
			step = -1
		}
	}
	for first := true; t >= 0 && t < len(plans) && len(out) < limit; t, first = t+step, false {
		tp := plans[t]
		if tp.pl.none {
			continue
		}
		w := window{limit: limit - len(out), keys: true}
		if first {
			w.anchor = anchor
		}
		if step < 0 {
			// Backwards: nearest first; an earlier type is read from its end.
			w.back = true
		}
		rs, err := tp.s.rows(ctx, tp.pl, w)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = append(out, typedRow{t, r})
		}
	}
	return out, nil
}
