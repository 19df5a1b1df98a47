package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// Prepared writes. bun renders a query with its values inlined, so every
// INSERT is a new text that SQLite must parse and plan (about a fifth of a
// create's CPU, measured). The generated store code instead writes with
// fixed texts and bound values through Exec and InsertRows, and those
// texts are prepared once on the write connection.
//
// A statement cannot be prepared through the pool while a transaction holds
// the only connection (it would wait for that connection forever), so a
// text seen inside a transaction is run unprepared that time and noted;
// the committer prepares the noted texts between two batches.

// maxRowsPerInsert bounds the rows of one multi-row INSERT, so that the
// texts to prepare per table stay few (1..maxRowsPerInsert rows).
const maxRowsPerInsert = 16

// Val turns a nullable column value into a bound argument (nil: NULL).
func Val[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// Exec runs a write statement with bound arguments ("?" placeholders) on
// db, which is the transaction RunInTx passed to its function. On SQLite
// the text is prepared once; on PostgreSQL its placeholders are numbered
// ($1, $2, ...). On anything but that transaction it runs through bun.
func Exec(ctx context.Context, db bun.IDB, query string, args ...any) error {
	_, err := execResult(ctx, db, query, args)
	return err
}

// ExecRows is Exec that returns the number of rows the statement changed.
func ExecRows(ctx context.Context, db bun.IDB, query string, args ...any) (int64, error) {
	res, err := execResult(ctx, db, query, args)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func execResult(ctx context.Context, db bun.IDB, query string, args []any) (sql.Result, error) {
	tx, ok := db.(bun.Tx)
	d, _ := ctx.Value(inTxKey{}).(*DB)
	if !ok || d == nil {
		return db.ExecContext(ctx, query, args...)
	}
	if d.Dialect == sqlfilter.Postgres {
		return tx.Tx.ExecContext(ctx, rebindPostgres(query), args...)
	}
	if st := d.writeStmt(query); st != nil {
		return tx.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryTx runs a query with "?" placeholders inside the transaction
// RunInTx passed to its function.
// On SQLite the statement is prepared once and reused, as Exec's are
// (preparing costs more than running a one-row statement).
func QueryTx(ctx context.Context, tx bun.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := writeStmtFor(ctx, query); st != nil {
		return tx.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, bindFor(ctx, query), args...)
}

// QueryRowTx is QueryTx for one row.
func QueryRowTx(ctx context.Context, tx bun.Tx, query string, args ...any) *sql.Row {
	if st := writeStmtFor(ctx, query); st != nil {
		return tx.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, bindFor(ctx, query), args...)
}

// writeStmtFor is the prepared SQLite statement of query for the
// transaction in ctx, or nil (PostgreSQL, outside RunInTx, not prepared yet).
func writeStmtFor(ctx context.Context, query string) *sql.Stmt {
	if d, _ := ctx.Value(inTxKey{}).(*DB); d != nil && d.Dialect == sqlfilter.SQLite {
		return d.writeStmt(query)
	}
	return nil
}

// bindFor turns "?" placeholders into the dialect's of the transaction in ctx.
func bindFor(ctx context.Context, query string) string {
	if d, _ := ctx.Value(inTxKey{}).(*DB); d != nil && d.Dialect == sqlfilter.Postgres {
		return rebindPostgres(query)
	}
	return query
}

type rowsKey struct {
	head     string
	width, n int
}

var rowsTexts sync.Map // rowsKey -> string

// rowsSQL is head followed by n tuples of width placeholders.
func rowsSQL(head string, width, n int) string {
	k := rowsKey{head, width, n}
	if s, ok := rowsTexts.Load(k); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range width {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	s := b.String()
	rowsTexts.Store(k, s)
	return s
}

// writeStmts holds the prepared write statements and the texts waiting to
// be prepared.
type writeStmts struct {
	ready sync.Map // text -> *sql.Stmt on Write
	mu    sync.Mutex
	want  map[string]bool
	n     int // ready + wanted
}

// writeStmt returns the prepared statement for query, or nil after noting
// the text for the committer to prepare (until maxStmts texts are known).
func (db *DB) writeStmt(query string) *sql.Stmt {
	if s, ok := db.wstmts.ready.Load(query); ok {
		return s.(*sql.Stmt)
	}
	w := &db.wstmts
	w.mu.Lock()
	if !w.want[query] && w.n < maxStmts {
		if w.want == nil {
			w.want = map[string]bool{}
		}
		w.want[query] = true
		w.n++
	}
	w.mu.Unlock()
	return nil
}

// prepareWanted prepares the noted texts; the committer calls it while it
// holds no transaction. A text that does not prepare stays unprepared.
func (db *DB) prepareWanted() {
	w := &db.wstmts
	w.mu.Lock()
	want := w.want
	w.want = nil
	w.mu.Unlock()
	for q := range want {
		st, err := db.Write.DB.PrepareContext(context.Background(), q)
		if err != nil {
			st = nil // run unprepared from now on, not retried
		}
		db.wstmts.ready.Store(q, st)
	}
}

// closeWriteStmts closes the prepared write statements.
func (db *DB) closeWriteStmts() {
	db.wstmts.ready.Range(func(k, v any) bool {
		if st := v.(*sql.Stmt); st != nil {
			st.Close()
		}
		db.wstmts.ready.Delete(k)
		return true
	})
}
