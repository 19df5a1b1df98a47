// Package store emits generated/store: bun models for each resource type's
// main table and child tables, the functions that write them from the typed
// resource, the filter-to-SQL mapping, the engine descriptor that ties a
// resource type together, and the SQL migrations.
package store

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/sqlfilter"
)

const dir = "generated/store/"

// Emit returns the files of package store. prev is the repository as it is
// (nil for none): the migrations already generated are kept and extended.
func Emit(m *model.Model, prev fs.FS, now time.Time) ([]emit.File, error) {
	var files []emit.File
	f := emit.NewGoFile(emit.StorePkg, "store")
	f.PackageComment("Package store holds the bun models, writers and filter mappings of every")
	f.PackageComment("resource type. Their tables are created by the migrations in migrations/.")
	membership(f, m)
	// Tables in an order that deletes safely (rows before the rows they
	// reference): what removing a tenant's data walks.
	var tables []jen.Code
	if m.Membership != nil {
		tables = append(tables, jen.Lit(m.Membership.Table))
	}
	for i := len(m.Resources) - 1; i >= 0; i-- {
		r := m.Resources[i]
		for _, ch := range r.Children {
			tables = append(tables, jen.Lit(ch.Table))
		}
		tables = append(tables, jen.Lit(r.Table))
	}
	f.Comment("Tables are every table of the resource types, children before their parents.")
	f.Var().Id("Tables").Op("=").Index().String().Values(tables...)
	out, err := emit.Render(dir+"store.gen.go", f)
	if err != nil {
		return nil, err
	}
	files = append(files, out)
	for _, r := range m.Resources {
		f := emit.NewGoFile(emit.StorePkg, "store")
		models(f, r)
		writers(f, r)
		mapping(f, m, r)
		descriptor(f, m, r)
		out, err := emit.Render(dir+naming.Snake(r.GoName)+".gen.go", f)
		if err != nil {
			return nil, err
		}
		files = append(files, out)
	}
	mig, err := migrations(m, prev, now)
	if err != nil {
		return nil, err
	}
	return append(files, mig...), nil
}

// columnGoType is the Go type of a nullable column in a bun model.
func columnGoType(a *schema.Attribute) *jen.Statement {
	switch a.Type {
	case schema.Boolean:
		return jen.Op("*").Bool()
	case schema.Integer:
		return jen.Op("*").Int64()
	case schema.Decimal:
		return jen.Op("*").Float64()
	}
	return jen.Op("*").String()
}

func bunTag(name string, extra ...string) map[string]string {
	return map[string]string{"bun": strings.Join(append([]string{name}, extra...), ",")}
}

func models(f *jen.File, r *model.Resource) {
	fields := []jen.Code{
		jen.Qual(emit.BunPkg, "BaseModel").Tag(map[string]string{"bun": "table:" + r.Table}),
		jen.Id("TenantID").String().Tag(bunTag(TenantColumn, "pk")),
		jen.Id("ID").String().Tag(bunTag("id", "pk")),
		jen.Id("Version").Int64().Tag(bunTag("version", "notnull")),
		jen.Id("Created").String().Tag(bunTag("created", "notnull")),
		jen.Id("LastModified").String().Tag(bunTag("last_modified", "notnull")),
		jen.Comment("Doc is the resource's canonical JSON document, which reads return."),
		jen.Id("Doc").String().Tag(bunTag("doc", "notnull")),
	}
	for _, c := range r.Columns {
		fields = append(fields, jen.Comment(fmt.Sprintf("%s holds %s.", naming.Go(c.Name), c.FilterPath)),
			jen.Id(naming.Go(c.Name)).Add(columnGoType(c.Attr)).Tag(bunTag(c.Name)))
	}
	f.Comment(fmt.Sprintf("%sRow is a row of %s: one %s and its searchable attributes.", r.GoName, r.Table, r.Type.Name))
	f.Type().Id(r.GoName + "Row").Struct(fields...)
	for _, ch := range r.Children {
		fields := []jen.Code{
			jen.Qual(emit.BunPkg, "BaseModel").Tag(map[string]string{"bun": "table:" + ch.Table}),
			jen.Id("TenantID").String().Tag(bunTag(TenantColumn, "pk")),
			jen.Id(naming.Go(ch.ParentColumn)).String().Tag(bunTag(ch.ParentColumn, "pk")),
			jen.Comment("Ord keeps the values in the order the client sent them."),
			jen.Id("Ord").Int().Tag(bunTag("ord", "pk")),
		}
		for _, c := range ch.Columns {
			fields = append(fields, jen.Id(naming.Go(c.Name)).Add(columnGoType(c.Attr)).Tag(bunTag(c.Name)))
		}
		f.Comment(fmt.Sprintf("%s is a row of %s: one value of %s.", ch.RowGoName, ch.Table, ch.Columns[0].FilterPath[:strings.LastIndex(ch.Columns[0].FilterPath+".", ".")]))
		f.Type().Id(ch.RowGoName).Struct(fields...)
	}
}

// valueExpr converts a typed resource field to the column value.
func valueExpr(a *schema.Attribute, expr string) *jen.Statement {
	switch a.Type {
	case schema.Boolean:
		return jen.Qual(emit.SqlstorePkg, "Bool").Call(jen.Op(expr))
	case schema.Integer, schema.Decimal:
		return jen.Op(expr)
	case schema.DateTime:
		return jen.Qual(emit.SqlstorePkg, "Time").Call(jen.Op(expr))
	}
	if folded(a) {
		return jen.Qual(emit.SqlstorePkg, "Fold").Call(jen.Op(expr))
	}
	return jen.Qual(emit.SqlstorePkg, "Str").Call(jen.Op(expr))
}

// folded reports whether the writers store the attribute's column
// case-folded (sqlstore.Fold): caseExact=false strings and references.
// The filter mapping says so (sqlfilter.Attribute.Folded) from the same
// function, so the compiler folds exactly the columns that hold folded text.
func folded(a *schema.Attribute) bool {
	return (a.Type == schema.String || a.Type == schema.Reference) && !a.CaseExact
}

// elemValueExpr converts one element of a multi-valued simple attribute.
func elemValueExpr(a *schema.Attribute, expr string) *jen.Statement {
	switch a.Type {
	case schema.Boolean:
		return jen.Qual(emit.SqlstorePkg, "Bool").Call(jen.Op("&" + expr))
	case schema.Integer, schema.Decimal:
		return jen.Op("&" + expr)
	}
	return valueExpr(a, expr)
}

// tableVar declares a table for the store's writers (sqlstore.Table): its
// name, the columns the generated code binds (the store adds tenant_id)
// and, for a child table, the column holding the parent's id. The store
// writes the SQL text, in the database's dialect.
func tableVar(f *jen.File, name, table, parent string, cols []string) {
	d := jen.Dict{jen.Id("Name"): jen.Lit(table)}
	if parent != "" {
		d[jen.Id("Parent")] = jen.Lit(parent)
	}
	lits := make([]jen.Code, len(cols))
	for i, c := range cols {
		lits[i] = jen.Lit(c)
	}
	d[jen.Id("Columns")] = jen.Index().String().Values(lits...)
	f.Var().Id(name).Op("=").Op("&").Qual(emit.SqlstorePkg, "Table").Values(d)
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

func writers(f *jen.File, r *model.Resource) {
	rec := func() *jen.Statement {
		return jen.Id("rec").Op("*").Qual(emit.EnginePkg, "Record").Types(jen.Qual(emit.ResourcePkg, r.GoName))
	}
	ctxDB := []jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("db").Qual(emit.BunPkg, "IDB")}
	lower := lowerFirst(r.GoName)

	// row builder
	body := []jen.Code{
		jen.Id("v").Op(":=").Id("rec").Dot("Value"),
		jen.Id("row").Op(":=").Op("&").Id(r.GoName + "Row").Values(jen.Dict{
			jen.Id("ID"):           jen.Id("rec").Dot("ID"),
			jen.Id("Version"):      jen.Id("rec").Dot("Version"),
			jen.Id("Created"):      jen.Qual(emit.SqlstorePkg, "FormatTime").Call(jen.Id("rec").Dot("Created")),
			jen.Id("LastModified"): jen.Qual(emit.SqlstorePkg, "FormatTime").Call(jen.Id("rec").Dot("LastModified")),
			jen.Id("Doc"):          jen.String().Call(jen.Id("rec").Dot("Doc")),
		}),
	}
	// Group columns by the Go access path of their parent value.
	type group struct {
		guard string
		stmts []jen.Code
	}
	var groups []*group
	byGuard := map[string]*group{}
	type secretCol struct {
		c           *model.Column
		expr, guard string
	}
	var secrets []secretCol
	for _, c := range r.Columns {
		a := c.Attr
		expr, guard := "v", ""
		if c.FilterPath == "externalId" {
			expr = "v.ExternalID"
		} else {
			p := r.Part(a)
			if a.Parent != nil {
				p = r.Part(a.Parent)
			}
			base := "v"
			if p.Extension {
				base = "v." + p.GoName
				guard = base + " != nil"
			}
			if a.Parent != nil {
				parent := base + "." + naming.Go(a.Parent.Name)
				if guard != "" {
					guard += " && "
				}
				guard += parent + " != nil"
				expr = parent + "." + naming.Go(a.Name)
			} else {
				expr = base + "." + naming.Go(a.Name)
			}
		}
		var st jen.Code
		if c.Secret {
			// The hash was computed before the write transaction began
			// (hashSecrets): bcrypt takes tens of milliseconds, which a
			// transaction must not hold its locks for.
			i := len(secrets)
			secrets = append(secrets, secretCol{c, expr, guard})
			st = jen.If(jen.Len(jen.Id("rec").Dot("Secrets")).Op(">").Lit(i).Op("&&").Id("rec").Dot("Secrets").Index(jen.Lit(i)).Op("!=").Lit("")).Block(
				jen.Id("row").Dot(naming.Go(c.Name)).Op("=").Op("&").Id("rec").Dot("Secrets").Index(jen.Lit(i)),
			)
		} else {
			st = jen.Id("row").Dot(naming.Go(c.Name)).Op("=").Add(valueExpr(a, expr))
		}
		g := byGuard[guard]
		if g == nil {
			g = &group{guard: guard}
			byGuard[guard] = g
			groups = append(groups, g)
		}
		g.stmts = append(g.stmts, st)
	}
	for _, g := range groups {
		if g.guard == "" {
			body = append(body, g.stmts...)
		} else {
			body = append(body, jen.If(jen.Op(g.guard)).Block(g.stmts...))
		}
	}
	body = append(body, jen.Return(jen.Id("row"), jen.Nil()))
	f.Func().Id(lower+"Row").Params(rec()).Params(jen.Op("*").Id(r.GoName+"Row"), jen.Error()).Block(body...)

	if len(secrets) > 0 {
		hb := []jen.Code{
			jen.Id("v").Op(":=").Id("rec").Dot("Value"),
			jen.Id("in").Op(":=").Make(jen.Index().String(), jen.Lit(len(secrets))),
		}
		for i, sc := range secrets {
			set := jen.Id("in").Index(jen.Lit(i)).Op("=").Op(sc.expr)
			if sc.guard != "" {
				hb = append(hb, jen.If(jen.Op(sc.guard)).Block(set))
			} else {
				hb = append(hb, set)
			}
		}
		// A Before hook may change a secret: the engine calls this again
		// after the hooks, and only a changed input is hashed again.
		hb = append(hb,
			jen.If(jen.Id("rec").Dot("SecretInputs").Op("!=").Nil().Op("&&").Qual("slices", "Equal").Call(jen.Id("in"), jen.Id("rec").Dot("SecretInputs"))).Block(jen.Return(jen.Nil())),
			jen.Id("rec").Dot("Secrets").Op("=").Make(jen.Index().String(), jen.Lit(len(secrets))),
		)
		for i, sc := range secrets {
			hb = append(hb, jen.If(jen.Id("in").Index(jen.Lit(i)).Op("!=").Lit("")).Block(
				jen.List(jen.Id("h"), jen.Err()).Op(":=").Qual(emit.SecretPkg, "Hash").Call(jen.Id("in").Index(jen.Lit(i))),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual(emit.ScimerrPkg, "BadRequest").Call(
					jen.Qual(emit.ScimerrPkg, "InvalidValue"), jen.Lit(sc.c.FilterPath+": %v"), jen.Err()))),
				jen.Id("rec").Dot("Secrets").Index(jen.Lit(i)).Op("=").Id("h"),
			))
		}
		hb = append(hb, jen.Id("rec").Dot("SecretInputs").Op("=").Id("in"))
		hb = append(hb, jen.Return(jen.Nil()))
		f.Comment(fmt.Sprintf("hash%sSecrets hashes the secrets a %s carries into rec.Secrets; the engine", r.GoName, r.Type.Name))
		f.Comment("calls it before the write transaction (bcrypt is slow), and after Before hooks.")
		f.Func().Id("hash" + r.GoName + "Secrets").Params(rec()).Error().Block(hb...)
	}

	// children: one insert function per child table, so that an update
	// can rewrite only the tables whose values changed.
	var childCalls, updChildren []jen.Code
	for _, ch := range r.Children {
		p := ch.Part
		base, guard := "v", ""
		if p.Extension {
			base = "v." + p.GoName
			guard = base + " != nil"
		}
		fieldName := naming.Go(ch.Attr.Name)
		field := base + "." + fieldName
		// One multi-row INSERT with bound values (sqlstore.InsertRows), in
		// the column order of insertHead.
		vals := []jen.Code{jen.Id("rec").Dot("ID"), jen.Id("i")}
		if ch.Attr.Type == schema.Complex {
			for _, c := range ch.Columns {
				vals = append(vals, jen.Qual(emit.SqlstorePkg, "Val").Call(valueExpr(c.Attr, "e."+naming.Go(c.Attr.Name))))
			}
		} else {
			vals = append(vals, jen.Qual(emit.SqlstorePkg, "Val").Call(elemValueExpr(ch.Attr, "e")))
		}
		cols := []string{ch.ParentColumn, "ord"}
		for _, c := range ch.Columns {
			cols = append(cols, c.Name)
		}
		tv := lower + fieldName + "Table"
		if p.Extension {
			tv = lower + p.GoName + fieldName + "Table"
		}
		tableVar(f, tv, ch.Table, ch.ParentColumn, cols)
		loop := []jen.Code{
			jen.Id("args").Op(":=").Make(jen.Index().Any(), jen.Lit(0), jen.Lit(len(cols)).Op("*").Len(jen.Op(field))),
			jen.For(jen.List(jen.Id("i"), jen.Id("e")).Op(":=").Range().Op(field)).Block(
				jen.Id("args").Op("=").Append(append([]jen.Code{jen.Id("args")}, vals...)...),
			),
			jen.Return(jen.Qual(emit.SqlstorePkg, "InsertRows").Call(jen.Id("ctx"), jen.Id("db"), jen.Id(tv), jen.Id("args"))),
		}
		cond := "len(" + field + ") == 0"
		if guard != "" {
			cond = base + " == nil || " + cond
		}
		fn := "insert" + r.GoName + fieldName
		if p.Extension {
			fn = "insert" + r.GoName + p.GoName + fieldName
		}
		f.Comment(fmt.Sprintf("%s writes the rows of %s.", fn, ch.Table))
		f.Func().Id(fn).Params(append(ctxDB, rec())...).Error().Block(append([]jen.Code{
			jen.Id("v").Op(":=").Id("rec").Dot("Value"),
			jen.If(jen.Op(cond)).Block(jen.Return(jen.Nil())),
		}, loop...)...)
		call := jen.If(jen.Err().Op(":=").Id(fn).Call(jen.Id("ctx"), jen.Id("db"), jen.Id("rec")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err()))
		childCalls = append(childCalls, call)
		// Changed: no old value, or the values differ (for an extension
		// attribute, also when the extension appears or goes).
		var changed *jen.Statement
		if p.Extension {
			changed = jen.Id("old").Op("==").Nil().Op("||").
				Parens(jen.Id("old").Dot(p.GoName).Op("==").Nil()).Op("!=").Parens(jen.Id("v").Dot(p.GoName).Op("==").Nil()).Op("||").
				Parens(jen.Id("v").Dot(p.GoName).Op("!=").Nil().Op("&&").Op("!").Qual("reflect", "DeepEqual").Call(
					jen.Id("old").Dot(p.GoName).Dot(fieldName), jen.Id("v").Dot(p.GoName).Dot(fieldName)))
		} else {
			changed = jen.Id("old").Op("==").Nil().Op("||").Op("!").Qual("reflect", "DeepEqual").Call(jen.Id("old").Dot(fieldName), jen.Id("v").Dot(fieldName))
		}
		updChildren = append(updChildren, jen.If(changed).Block(
			jen.If(jen.Err().Op(":=").Qual(emit.SqlstorePkg, "DeleteChildren").Call(jen.Id("ctx"), jen.Id("db"),
				jen.Id(tv), jen.Id("rec").Dot("ID")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			call,
		))
	}
	f.Func().Id("insert" + r.GoName + "Children").Params(append(ctxDB, rec())...).Error().Block(append(childCalls, jen.Return(jen.Nil()))...)

	// insert
	f.Comment(fmt.Sprintf("insert%s writes a new %s: its row and its child rows.", r.GoName, r.Type.Name))
	f.Func().Id("insert"+r.GoName).Params(append(ctxDB, rec())...).Error().Block(
		jen.List(jen.Id("row"), jen.Err()).Op(":=").Id(lower+"Row").Call(jen.Id("rec")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.If(jen.Err().Op(":=").Qual(emit.SqlstorePkg, "Insert").Call(jen.Id("ctx"), jen.Id("db"), jen.Id(lower+"Table"), jen.Id("row").Dot("insertArgs").Call().Op("...")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Return(jen.Id("insert"+r.GoName+"Children").Call(jen.Id("ctx"), jen.Id("db"), jen.Id("rec"))),
	)

	// The main row's INSERT: a fixed text with bound values, prepared once
	// (bun would inline the values, and SQLite parse every create anew).
	mainCols := []string{"id", "version", "created", "last_modified", "doc"}
	args := []jen.Code{jen.Id("r").Dot("ID"), jen.Id("r").Dot("Version"), jen.Id("r").Dot("Created"), jen.Id("r").Dot("LastModified"), jen.Id("r").Dot("Doc")}
	for _, c := range r.Columns {
		mainCols = append(mainCols, c.Name)
		args = append(args, jen.Qual(emit.SqlstorePkg, "Val").Call(jen.Id("r").Dot(naming.Go(c.Name))))
	}
	f.Comment(fmt.Sprintf("%sTable is the %s row an insert writes; insertArgs binds its values.", lower, r.Table))
	tableVar(f, lower+"Table", r.Table, "", mainCols)
	f.Func().Params(jen.Id("r").Op("*").Id(r.GoName + "Row")).Id("insertArgs").Params().Index().Any().Block(
		jen.Return(jen.Index().Any().Values(args...)),
	)

	// update: the engine has already written version, last_modified and doc,
	// and deleted the child rows. A fixed text with bound values, prepared
	// once, like the insert.
	var sets []string
	var updArgs []jen.Code
	var secret *model.Column
	for _, c := range r.Columns {
		if c.Secret {
			secret = c
			continue
		}
		sets = append(sets, c.Name)
		updArgs = append(updArgs, jen.Qual(emit.SqlstorePkg, "Val").Call(jen.Id("r").Dot(naming.Go(c.Name))))
	}
	f.Comment(fmt.Sprintf("%sSearchTable names the search columns of a %s row an update rewrites; updateArgs binds them.", lower, r.Table))
	tableVar(f, lower+"SearchTable", r.Table, "", sets)
	if secret != nil {
		f.Comment(fmt.Sprintf("%sSearchSecretTable is %sSearchTable and %s.", lower, lower, secret.Name))
		tableVar(f, lower+"SearchSecretTable", r.Table, "", append(append([]string(nil), sets...), secret.Name))
	}
	f.Func().Params(jen.Id("r").Op("*").Id(r.GoName + "Row")).Id("updateArgs").Params().Index().Any().Block(
		jen.Return(jen.Index().Any().Values(updArgs...)),
	)
	upd := []jen.Code{
		jen.List(jen.Id("row"), jen.Err()).Op(":=").Id(lower + "Row").Call(jen.Id("rec")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.List(jen.Id("cols"), jen.Id("args")).Op(":=").List(jen.Id(lower+"SearchTable"), jen.Id("row").Dot("updateArgs").Call()),
		// The search columns are rewritten only when one of them changed:
		// rewriting equal values still rewrites their index entries.
		jen.Id("write").Op(":=").Id("old").Op("==").Nil(),
		jen.If(jen.Op("!").Id("write")).Block(
			jen.List(jen.Id("prev"), jen.Err()).Op(":=").Id(lower+"Row").Call(jen.Op("&").Qual(emit.EnginePkg, "Record").Types(jen.Qual(emit.ResourcePkg, r.GoName)).Values(jen.Dict{
				jen.Id("ID"): jen.Id("rec").Dot("ID"), jen.Id("Value"): jen.Id("old")})),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.Id("write").Op("=").Op("!").Qual("reflect", "DeepEqual").Call(jen.Id("prev").Dot("updateArgs").Call(), jen.Id("args")),
		),
	}
	if secret != nil {
		upd = append(upd, jen.Comment("A replace without the secret keeps the stored hash: clients never"),
			jen.Comment("see it (returned \"never\"), so they cannot send it back."),
			jen.If(jen.Id("row").Dot(naming.Go(secret.Name)).Op("!=").Nil()).Block(
				jen.Id("cols").Op("=").Id(lower+"SearchSecretTable"),
				jen.Id("args").Op("=").Append(jen.Id("args"), jen.Op("*").Id("row").Dot(naming.Go(secret.Name))),
				jen.Id("write").Op("=").True()))
	}
	upd = append(upd,
		jen.If(jen.Id("write")).Block(
			jen.If(jen.Err().Op(":=").Qual(emit.SqlstorePkg, "UpdateByID").Call(jen.Id("ctx"), jen.Id("db"), jen.Id("cols"), jen.Id("args"), jen.Id("row").Dot("ID")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err()))),
	)
	if len(updChildren) > 0 {
		upd = append(upd, jen.Id("v").Op(":=").Id("rec").Dot("Value"))
		upd = append(upd, updChildren...)
	}
	upd = append(upd, jen.Return(jen.Nil()))
	f.Comment(fmt.Sprintf("update%s writes what changed from old (nil: everything) to a %s's new value:", r.GoName, r.Type.Name))
	f.Comment("its search columns, and the rows of each child table whose values differ. A")
	f.Comment("PATCH of one attribute then writes one row, not every table of the resource.")
	f.Func().Id("update" + r.GoName).Params(append(ctxDB, jen.Id("old").Op("*").Qual(emit.ResourcePkg, r.GoName), rec())...).Error().Block(upd...)

	// delete child rows
	var del []jen.Code
	for _, ch := range r.Children {
		tv := lower + naming.Go(ch.Attr.Name) + "Table"
		if ch.Part.Extension {
			tv = lower + ch.Part.GoName + naming.Go(ch.Attr.Name) + "Table"
		}
		del = append(del, jen.If(jen.Err().Op(":=").Qual(emit.SqlstorePkg, "DeleteChildren").Call(jen.Id("ctx"), jen.Id("db"),
			jen.Id(tv), jen.Id("id")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())))
	}
	del = append(del, jen.Return(jen.Nil()))
	f.Comment(fmt.Sprintf("delete%sRows removes the child rows of a %s.", r.GoName, r.Type.Name))
	f.Func().Id("delete" + r.GoName + "Rows").Params(append(ctxDB, jen.Id("id").String())...).Error().Block(del...)
}

// mappingAttr maps path to column; isFolded says the column holds
// folded text (see folded).
func mappingAttr(path string, a *schema.Attribute, column string, child jen.Code, isFolded bool, trgm string) jen.Code {
	d := jen.Dict{
		jen.Id("Path"):   jen.Lit(path),
		jen.Id("Type"):   jen.Lit(string(a.Type)),
		jen.Id("Column"): jen.Lit(column),
	}
	if a.CaseExact {
		d[jen.Id("CaseExact")] = jen.True()
	}
	if isFolded {
		d[jen.Id("Folded")] = jen.True()
	}
	if child != nil {
		d[jen.Id("Child")] = child
	}
	if trgm != "" && sqlfilter.SQLiteTrigrams {
		// The SQLite FTS5 table co/ew query; PostgreSQL's GIN index
		// needs no name: the planner finds it for LIKE.
		d[jen.Id("Trigram")] = jen.Lit(trgm)
	}
	return jen.Values(d)
}

func mapping(f *jen.File, m *model.Model, r *model.Resource) {
	var attrs []jen.Code
	for _, fa := range m.Filterables(r) {
		var child jen.Code
		isFolded, trgm := false, ""
		switch {
		case fa.Membership != "":
			// The engine writes the membership table as is: member ids and
			// the member's resource type name ("User"). The ids count as
			// folded: they are server-assigned lower-case UUIDs
			// (engine.newID), already their own fold, so members.value and
			// groups.value (caseExact=false in RFC 7643) fold the filter
			// value only and the (tenant_id, member_id) index serves the
			// lookup. The type name is not folded, so a filter on it
			// lowers the column.
			child = jen.Op("&").Qual(emit.SqlfilterPkg, "Child").Values(jen.Dict{
				jen.Id("Table"): jen.Lit(m.Membership.Table), jen.Id("ParentColumn"): jen.Lit(fa.Membership)})
			isFolded = fa.Column != "member_type"
		case fa.Child != nil:
			ch := fa.Child
			child = jen.Op("&").Qual(emit.SqlfilterPkg, "Child").Values(jen.Dict{
				jen.Id("Table"): jen.Lit(ch.Table), jen.Id("ParentColumn"): jen.Lit(ch.ParentColumn), jen.Id("OrderColumn"): jen.Lit("ord")})
			isFolded = folded(fa.Attr)
			if childHasTrigram(ch, fa.Column) {
				trgm = trigramName(ch.Table, fa.Column)
			}
		case fa.Stored != nil:
			isFolded = folded(fa.Attr)
			if hasTrigram(fa.Stored) {
				trgm = trigramName(r.Table, fa.Column)
			}
		}
		attrs = append(attrs, mappingAttr(fa.Path, fa.Attr, fa.Column, child, isFolded, trgm))
	}
	schemas := []jen.Code{jen.Lit(r.CoreURN())}
	for _, p := range r.Parts[1:] {
		schemas = append(schemas, jen.Lit(p.Schema.ID))
	}
	f.Comment(fmt.Sprintf("%sMapping tells the filter compiler where each %s attribute is stored.", r.GoName, r.Type.Name))
	f.Var().Id(r.GoName+"Mapping").Op("=").Op("&").Qual(emit.SqlfilterPkg, "Mapping").Values(jen.Dict{
		jen.Id("Table"):        jen.Lit(r.Table),
		jen.Id("IDColumn"):     jen.Lit("id"),
		jen.Id("TenantColumn"): jen.Lit(TenantColumn),
		jen.Id("Schemas"):      jen.Index().String().Values(schemas...),
		jen.Id("Attributes"):   jen.Index().Qual(emit.SqlfilterPkg, "Attribute").Values(attrs...),
	})
}

// displayKeys are the top-level attributes of the stored document that
// name a member for display, the first present one winning. The store reads
// them from the document (the search columns hold case-folded values) with
// its dialect's JSON functions.
func displayKeys(r *model.Resource) jen.Code {
	var keys []jen.Code
	for _, path := range []string{"displayName", "userName"} {
		for _, c := range r.Columns {
			if c.FilterPath == path {
				keys = append(keys, jen.Lit(path))
			}
		}
	}
	return jen.Index().String().Values(keys...)
}

func membership(f *jen.File, m *model.Model) {
	ms := m.Membership
	if ms == nil {
		return
	}
	f.Comment("Membership is the join table behind " + ms.Group.Type.Name + ".members and the members' groups.")
	f.Var().Id("Membership").Op("=").Qual(emit.EnginePkg, "Membership").Values(jen.Dict{
		jen.Id("Table"):         jen.Lit(ms.Table),
		jen.Id("GroupTable"):    jen.Lit(ms.Group.Table),
		jen.Id("GroupEndpoint"): jen.Lit(ms.Group.Type.Endpoint),
		jen.Id("GroupType"):     jen.Lit(ms.Group.Type.Name),
		jen.Id("GroupDisplay"):  displayKeys(ms.Group),
	})
	var types []jen.Code
	var names []string
	if t := ms.Group.Members.Sub("type"); t != nil {
		names = t.CanonicalValues
	}
	if len(names) == 0 {
		for _, r := range m.Resources {
			names = append(names, r.Type.Name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		for _, r := range m.Resources {
			if strings.EqualFold(r.Type.Name, n) {
				types = append(types, jen.Values(jen.Dict{
					jen.Id("Name"):     jen.Lit(r.Type.Name),
					jen.Id("Table"):    jen.Lit(r.Table),
					jen.Id("Endpoint"): jen.Lit(r.Type.Endpoint),
					jen.Id("Display"):  displayKeys(r),
				}))
			}
		}
	}
	f.Comment("MemberTypes are the resource types that can be group members.")
	f.Var().Id("MemberTypes").Op("=").Index().Qual(emit.EnginePkg, "MemberType").Values(types...)
}

func descriptor(f *jen.File, m *model.Model, r *model.Resource) {
	T := func() *jen.Statement { return jen.Qual(emit.ResourcePkg, r.GoName) }
	d := jen.Dict{
		jen.Id("Type"):    jen.Id("rt"),
		jen.Id("Table"):   jen.Lit(r.Table),
		jen.Id("Mapping"): jen.Id(r.GoName + "Mapping"),
		jen.Id("Prepare"): jen.Parens(jen.Op("*").Add(T())).Dot("Prepare"),
		jen.Id("CheckImmutable"): jen.Func().Params(jen.List(jen.Id("old"), jen.Id("v")).Op("*").Add(T())).Error().Block(
			jen.Return(jen.Id("v").Dot("CheckImmutable").Call(jen.Id("old")))),
		jen.Id("Encode"):         jen.Parens(jen.Op("*").Add(T())).Dot("Encode"),
		jen.Id("Decode"):         jen.Qual(emit.ResourcePkg, "Decode"+r.GoName),
		jen.Id("SetServerAttrs"): jen.Parens(jen.Op("*").Add(T())).Dot("SetServerAttrs"),
		jen.Id("Insert"):         jen.Id("insert" + r.GoName),
		jen.Id("Update"):         jen.Id("update" + r.GoName),
		jen.Id("DeleteRows"):     jen.Id("delete" + r.GoName + "Rows"),
	}
	for _, c := range r.Columns {
		if c.Secret {
			d[jen.Id("HashSecrets")] = jen.Id("hash" + r.GoName + "Secrets")
			break
		}
	}
	if r.Groups != nil {
		d[jen.Id("GroupsOf")] = jen.Op("&").Id("Membership")
	}
	if r.Members != nil {
		mv := naming.Go(r.Members.Name)
		getBody := []jen.Code{
			jen.Id("refs").Op(":=").Make(jen.Index().Qual(emit.EnginePkg, "MemberRef"), jen.Lit(0), jen.Len(jen.Id("v").Dot(mv))),
		}
		typeField := jen.Lit("")
		if r.Members.Sub("type") != nil {
			typeField = jen.Id("x").Dot("Type")
		}
		getBody = append(getBody,
			jen.For(jen.List(jen.Id("_"), jen.Id("x")).Op(":=").Range().Id("v").Dot(mv)).Block(
				jen.Id("refs").Op("=").Append(jen.Id("refs"), jen.Qual(emit.EnginePkg, "MemberRef").Values(jen.Dict{
					jen.Id("Value"): jen.Id("x").Dot("Value"), jen.Id("Type"): typeField}))),
			jen.Return(jen.Id("refs")))
		d[jen.Id("Members")] = jen.Op("&").Qual(emit.EnginePkg, "MembersSpec").Types(T()).Values(jen.Dict{
			jen.Id("Membership"): jen.Id("Membership"),
			jen.Id("Types"):      jen.Id("MemberTypes"),
			jen.Id("Get"):        jen.Func().Params(jen.Id("v").Op("*").Add(T())).Index().Qual(emit.EnginePkg, "MemberRef").Block(getBody...),
		})
	}
	f.Comment(fmt.Sprintf("%sDescriptor describes the %s resource type to the engine; rt is its", r.GoName, r.Type.Name))
	f.Comment("resource type as loaded from the embedded schema documents.")
	f.Func().Id(r.GoName+"Descriptor").Params(jen.Id("rt").Op("*").Qual(emit.SchemaPkg, "ResourceType")).
		Op("*").Qual(emit.EnginePkg, "Descriptor").Types(T()).Block(
		jen.Return(jen.Op("&").Qual(emit.EnginePkg, "Descriptor").Types(T()).Values(d)))
}
