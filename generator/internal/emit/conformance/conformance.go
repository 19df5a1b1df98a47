// Package conformance emits generated/conformance: a conformance test per
// resource type (scim/conformance) that starts the app's handler and
// checks it against the type's schema, with the sample values it sends
// written into the test file.
package conformance

import (
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/conformance"
)

const (
	dir  = "generated/conformance/"
	pkg  = emit.GeneratedPkg + "/conformance"
	name = "conformance_test"

	conformancePkg = emit.Module + "/scim/conformance"
	serverPkg      = emit.Module + "/app/server"
	configPkg      = emit.Module + "/app/config"
	pgtestPkg      = emit.Module + "/internal/pgtest"
)

// Emit returns conformance_gen_test.go (TestMain, the samples, the run
// helper) and one <type>_gen_test.go per resource type.
func Emit(m *model.Model) ([]emit.File, error) {
	f := emit.NewGoFile(pkg, name)
	f.PackageComment("Package conformance_test checks the app's schemas/ against the app's own")
	f.PackageComment("handler (app/server.Handler): one test per resource type, run by make test")
	f.PackageComment("on SQLite and, with SCIMFORGE_E2E_ENGINE=postgres, on PostgreSQL. See")
	f.PackageComment("scim/conformance for what is checked; make generate rewrites these files.")
	f.Func().Id("TestMain").Params(jen.Id("m").Op("*").Qual("testing", "M")).Block(
		jen.Qual("os", "Exit").Call(jen.Qual(pgtestPkg, "Main").Call(jen.Id("m"))),
	)
	f.Comment("token is the bearer token the handler is configured with.")
	f.Const().Id("token").Op("=").Lit("conformance-token-0123456789abcdef")
	f.Comment("samples are the values the tests send, per resource type and attribute")
	f.Comment("(conformance.BaseSamples; each created resource gets its own variant).")
	types := jen.Dict{}
	for _, r := range m.Resources {
		s := conformance.BaseSamples(r.Type)
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		vals := jen.Dict{}
		for _, k := range keys {
			vals[jen.Lit(k)] = raw(s[k])
		}
		types[jen.Lit(r.Type.Name)] = jen.Values(vals)
	}
	f.Var().Id("samples").Op("=").Map(jen.String()).Qual(conformancePkg, "Samples").Values(types)
	f.Comment("run checks one resource type against the app's handler over a fresh")
	f.Comment("database: a SQLite file, or a PostgreSQL database with")
	f.Comment("SCIMFORGE_E2E_ENGINE=postgres (internal/pgtest starts the server).")
	f.Func().Id("run").Params(jen.Id("t").Op("*").Qual("testing", "T"), jen.Id("typ").String(), jen.Id("members").Bool()).Block(
		jen.Id("url").Op(":=").Lit("sqlite://").Op("+").Qual("path/filepath", "Join").Call(jen.Id("t").Dot("TempDir").Call(), jen.Lit("scimforge.db")),
		jen.If(jen.Qual("os", "Getenv").Call(jen.Lit("SCIMFORGE_E2E_ENGINE")).Op("==").Lit("postgres")).Block(
			jen.Id("url").Op("=").Qual(pgtestPkg, "Shared").Call(jen.Id("t")).Dot("NewDatabase").Call(jen.Id("t")),
		),
		jen.List(jen.Id("db"), jen.Id("creds"), jen.Err()).Op(":=").Qual(serverPkg, "Open").Call(
			jen.Qual("context", "Background").Call(), jen.Id("url"), jen.Qual(emit.SqlstorePkg, "Options").Values()),
		fatal(),
		jen.Id("t").Dot("Cleanup").Call(jen.Func().Params().Block(jen.Id("db").Dot("Close").Call())),
		jen.List(jen.Id("h"), jen.Err()).Op(":=").Qual(serverPkg, "Handler").Call(
			jen.Op("&").Qual(configPkg, "Config").Values(jen.Dict{jen.Id("Token"): jen.Id("token")}),
			jen.Id("db"), jen.Id("creds"), jen.Qual(conformancePkg, "Logger").Call(jen.Id("t"))),
		fatal(),
		jen.List(jen.Id("set"), jen.Err()).Op(":=").Qual(emit.DiscoveryPkg, "Load").Call(),
		fatal(),
		jen.Qual(conformancePkg, "Run").Call(jen.Id("t"),
			jen.Qual(conformancePkg, "Suite").Values(jen.Dict{
				jen.Id("Set"): jen.Id("set"), jen.Id("Type"): jen.Id("typ"),
				jen.Id("Samples"): jen.Id("samples"), jen.Id("Members"): jen.Id("members"),
			}),
			jen.Qual(conformancePkg, "Target").Values(jen.Dict{
				jen.Id("Handler"): jen.Id("h"), jen.Id("BasePath"): jen.Qual(configPkg, "BasePath"), jen.Id("Token"): jen.Id("token"),
			})),
	)
	out, err := emit.Render(dir+"conformance_gen_test.go", f)
	if err != nil {
		return nil, err
	}
	files := []emit.File{out}
	for _, r := range m.Resources {
		f := emit.NewGoFile(pkg, name)
		members := m.Membership != nil && m.Membership.Group == r
		test := "Test" + r.GoName + "Conformance"
		f.Commentf("%s checks the %s resource type (%s) against its schema%s.", test, r.Type.Name, r.Type.Endpoint,
			map[bool]string{true: ", its members with created members", false: ""}[members])
		f.Func().Id(test).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
			jen.Id("run").Call(jen.Id("t"), jen.Lit(r.Type.Name), jen.Lit(members)),
		)
		out, err := emit.Render(dir+naming.Snake(r.GoName)+"_gen_test.go", f)
		if err != nil {
			return nil, err
		}
		files = append(files, out)
	}
	return files, nil
}

func fatal() jen.Code {
	return jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("t").Dot("Fatal").Call(jen.Err()))
}

// raw is a Go raw string literal of s where it can be one (JSON in a
// backquoted string reads as JSON), else a quoted one.
func raw(s string) jen.Code {
	if strings.ContainsAny(s, "`\r") {
		return jen.Lit(s)
	}
	return jen.Op("`" + s + "`")
}
