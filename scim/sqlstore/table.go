package sqlstore

import (
	"context"
	"strings"
	"sync"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/tenant"
)

// TenantColumn leads every table's keys (see docs/DESIGN.md, "Tenants").
const TenantColumn = "tenant_id"

// Table describes a table to the writers below: generated code names the
// table and the columns it binds, in order, and the store writes the SQL
// (tenant column first, placeholders of the database's dialect). Generated
// code thus carries no SQL text.
type Table struct {
	Name string
	// Parent is, for a child table, the column holding the parent
	// resource's id ("user_id"); empty for a main table, whose id column is "id".
	Parent  string
	Columns []string

	once   sync.Once
	head   string // INSERT INTO "t" ("tenant_id", ...) VALUES
	update string // UPDATE "t" SET "a" = ?, ... WHERE "tenant_id" = ? AND "id" = ?
	delete string // DELETE FROM "t" WHERE "tenant_id" = ? AND "<parent>" = ?
}

func (t *Table) texts() *Table {
	t.once.Do(func() {
		q := make([]string, 0, len(t.Columns)+1)
		q = append(q, QuoteIdent(TenantColumn))
		for _, c := range t.Columns {
			q = append(q, QuoteIdent(c))
		}
		t.head = "INSERT INTO " + QuoteIdent(t.Name) + " (" + strings.Join(q, ", ") + ") VALUES "
		sets := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			sets[i] = QuoteIdent(c) + " = ?"
		}
		t.update = "UPDATE " + QuoteIdent(t.Name) + " SET " + strings.Join(sets, ", ") + " WHERE " + TenantWhere("") + ` AND "id" = ?`
		if t.Parent != "" {
			t.delete = "DELETE FROM " + QuoteIdent(t.Name) + " WHERE " + TenantWhere("") + " AND " + QuoteIdent(t.Parent) + " = ?"
		}
	})
	return t
}

// QuoteIdent double-quotes an identifier (the same in SQLite and PostgreSQL).
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// TenantWhere is the condition `alias."tenant_id" = ?` (alias may be empty);
// bind the context's tenant (tenant.Must) to it.
func TenantWhere(alias string) string {
	if alias == "" {
		return `"tenant_id" = ?`
	}
	return alias + `."tenant_id" = ?`
}

// Insert writes one row of t for the context's tenant; args bind t.Columns.
func Insert(ctx context.Context, db bun.IDB, t *Table, args ...any) error {
	t.texts()
	return Exec(ctx, db, rowsSQL(t.head, len(t.Columns)+1, 1), append([]any{tenant.Must(ctx)}, args...)...)
}

// InsertRows writes rows of t for the context's tenant with as few
// statements as possible: args hold the rows' values one row after another,
// len(t.Columns) values each.
func InsertRows(ctx context.Context, db bun.IDB, t *Table, args []any) error {
	t.texts()
	ten := tenant.Must(ctx)
	width := len(t.Columns)
	for len(args) > 0 {
		n := min(len(args)/width, maxRowsPerInsert)
		bound := make([]any, 0, n*(width+1))
		for i := range n {
			bound = append(bound, ten)
			bound = append(bound, args[i*width:(i+1)*width]...)
		}
		if err := Exec(ctx, db, rowsSQL(t.head, width+1, n), bound...); err != nil {
			return err
		}
		args = args[n*width:]
	}
	return nil
}

// UpdateByID sets t.Columns to args on the row of the context's tenant with
// the given id.
func UpdateByID(ctx context.Context, db bun.IDB, t *Table, args []any, id string) error {
	t.texts()
	return Exec(ctx, db, t.update, append(args, tenant.Must(ctx), id)...)
}

// DeleteChildren removes the rows of child table t that belong to parent id.
func DeleteChildren(ctx context.Context, db bun.IDB, t *Table, id string) error {
	t.texts()
	return Exec(ctx, db, t.delete, tenant.Must(ctx), id)
}

// PurgeTenant deletes every row of the tenant from tables (children
// listed before their parents) in tx: what removing a tenant does.
func PurgeTenant(ctx context.Context, tx bun.Tx, tables []string, name string) error {
	for _, t := range tables {
		if err := Exec(ctx, tx, "DELETE FROM "+QuoteIdent(t)+" WHERE "+TenantWhere(""), name); err != nil {
			return err
		}
	}
	return nil
}
