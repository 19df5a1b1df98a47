package engine

import "context"

// CursorPageQuery returns the SQL and arguments of the query that reads the
// page behind p.Cursor of a single-type list, for tests that inspect its
// query plan.
func CursorPageQuery[T any](ctx context.Context, s *Service[T], p ListParams) (string, []any, error) {
	pl, err := s.plan(p, false)
	if err != nil {
		return "", nil, err
	}
	pos, err := decodeCursor(s.scope(p), *p.Cursor, 1)
	if err != nil {
		return "", nil, err
	}
	count, _ := cursorCount(p.Count, s.lim.MaxResults)
	q, args := s.rowsQuery(ctx, pl, window{anchor: &pos, back: pos.back, limit: count + 1, keys: true})
	return q, args, nil
}

// Query is one SQL statement with its arguments.
type Query struct {
	SQL  string
	Args []any
}

// ListQueryArgs returns the query that reads the first page of a list
// filtered by f, for tests that inspect its query plan.
func ListQueryArgs[T any](ctx context.Context, s *Service[T], f string) (Query, error) {
	pl, err := s.plan(ListParams{Filter: f}, false)
	if err != nil {
		return Query{}, err
	}
	q, args := s.rowsQuery(ctx, pl, window{limit: 10})
	return Query{q, args}, nil
}

// PageQuery returns the query that reads the index page p asks for
// (startIndex, count), for tests that inspect its query plan.
func PageQuery[T any](ctx context.Context, s *Service[T], p ListParams) (Query, error) {
	pl, err := s.plan(p, false)
	if err != nil {
		return Query{}, err
	}
	startIndex, count := p.window(s.lim.MaxResults)
	q, args := s.rowsQuery(ctx, pl, window{offset: startIndex - 1, limit: count})
	return Query{q, args}, nil
}
