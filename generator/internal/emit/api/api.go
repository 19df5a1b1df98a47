// Package api emits generated/api/handlers.gen.go: the Server type that
// implements oapi-codegen's StrictServerInterface by handing each operation
// to the engine service of its resource type, plus the typed Hooks set.
package api

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/generator/internal/naming"
)

const discoveryRuntime = emit.Module + "/scim/discovery"
const webPkg = emit.Module + "/scim/web"

// Emit returns generated/api/handlers.gen.go.
func Emit(m *model.Model) ([]emit.File, error) {
	f := emit.NewGoFile(emit.APIPkg, "api")
	f.ImportAlias(emit.DiscoveryPkg, "embedded")

	var hookFields, serverFields []jen.Code
	for _, r := range m.Resources {
		hookFields = append(hookFields, jen.Id(r.GoName).Qual(emit.ResourcePkg, r.GoName+"Hooks"))
		serverFields = append(serverFields, jen.Id(field(r)).Op("*").Qual(emit.EnginePkg, "Service").Types(jen.Qual(emit.ResourcePkg, r.GoName)))
	}
	f.Comment("Hooks holds the application's hooks per resource type; nil means none.")
	f.Type().Id("Hooks").Struct(hookFields...)
	f.Comment("Server implements StrictServerInterface: every SCIM operation of every")
	f.Comment("resource type, and the discovery endpoints.")
	f.Type().Id("Server").Struct(append(serverFields,
		jen.Id("discovery").Op("*").Qual(discoveryRuntime, "Docs"))...)
	f.Var().Id("_").Id("StrictServerInterface").Op("=").Parens(jen.Op("*").Id("Server")).Call(jen.Nil())

	// NewServer
	body := []jen.Code{
		jen.List(jen.Id("set"), jen.Err()).Op(":=").Qual(emit.DiscoveryPkg, "Load").Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("embedded schemas: %w"), jen.Err()))),
		jen.Id("s").Op(":=").Op("&").Id("Server").Values(jen.Dict{jen.Id("discovery"): jen.Qual(discoveryRuntime, "New").Call(jen.Id("set"))}),
	}
	for _, r := range m.Resources {
		v := "rt" + r.GoName
		body = append(body,
			jen.Id(v).Op(":=").Id("set").Dot("ResourceType").Call(jen.Lit(r.Type.Name)),
			jen.If(jen.Id(v).Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Qual("errors", "New").Call(jen.Lit(fmt.Sprintf("embedded schemas: no resource type %q", r.Type.Name))))),
			jen.Var().Id("h"+r.GoName).Qual(emit.ResourcePkg, r.GoName+"Hooks").Op("=").Qual(emit.ResourcePkg, "Unimplemented"+r.GoName+"Hooks").Values(),
			jen.If(jen.Id("hooks").Dot(r.GoName).Op("!=").Nil()).Block(jen.Id("h"+r.GoName).Op("=").Id("hooks").Dot(r.GoName)),
			jen.Id("s").Dot(field(r)).Op("=").Qual(emit.EnginePkg, "New").Call(jen.Qual(emit.StorePkg, r.GoName+"Descriptor").Call(jen.Id(v)), jen.Id("env"), jen.Id("h"+r.GoName)),
		)
	}
	body = append(body, jen.Return(jen.Id("s"), jen.Nil()))
	f.Comment("NewServer builds the server over an open store (env.DB), with the change feed")
	f.Comment("env.Feed records into, and the application's hooks.")
	f.Func().Id("NewServer").Params(jen.Id("env").Op("*").Qual(emit.EnginePkg, "Env"), jen.Id("hooks").Id("Hooks")).
		Params(jen.Op("*").Id("Server"), jen.Error()).Block(body...)

	var eps []jen.Code
	for _, r := range m.Resources {
		eps = append(eps, jen.Id("s").Dot(field(r)))
	}
	f.Comment("Endpoints returns the service of every resource type as a JSON-level")
	f.Comment("engine.Endpoint, for callers that dispatch by endpoint: Bulk (RFC 7644 §3.7).")
	f.Func().Params(jen.Id("s").Op("*").Id("Server")).Id("Endpoints").Params().Index().Qual(emit.EnginePkg, "Endpoint").Block(
		jen.Return(jen.Index().Qual(emit.EnginePkg, "Endpoint").Values(eps...)))

	f.Comment("Discovery returns the discovery documents the server serves, for the")
	f.Comment("application to adjust what depends on its configuration (the")
	f.Comment("ServiceProviderConfig's authenticationSchemes and limits).")
	f.Func().Params(jen.Id("s").Op("*").Id("Server")).Id("Discovery").Params().Op("*").Qual(discoveryRuntime, "Docs").Block(
		jen.Return(jen.Id("s").Dot("discovery")))

	// The raw response implements every operation's response interface.
	f.Comment("response sends a body the engine composed; it implements every")
	f.Comment("operation's response interface, so handlers skip a decode/encode round trip.")
	f.Type().Id("response").Struct(jen.Op("*").Qual(emit.EnginePkg, "Response"))
	var ops []string
	for _, r := range m.Resources {
		ops = append(ops, "List"+naming.Go(r.Endpoint()), "Search"+naming.Go(r.Endpoint()), "Create"+r.GoName, "Get"+r.GoName, "Replace"+r.GoName, "Patch"+r.GoName, "Delete"+r.GoName)
	}
	if len(m.Resources) > 0 {
		ops = append(ops, "Search")
	}
	ops = append(ops, "GetServiceProviderConfig", "ListSchemas", "GetSchema", "ListResourceTypes", "GetResourceType")
	for _, op := range ops {
		f.Func().Params(jen.Id("r").Id("response")).Id("Visit" + op + "Response").Params(jen.Id("w").Qual("net/http", "ResponseWriter")).Error().Block(
			jen.Return(jen.Qual(webPkg, "WriteResponse").Call(jen.Id("w"), jen.Id("r").Dot("Response"))))
	}
	f.Comment("reply wraps an engine result.")
	f.Func().Id("reply").Params(jen.Id("resp").Op("*").Qual(emit.EnginePkg, "Response"), jen.Err().Error()).Params(jen.Id("response"), jen.Error()).Block(
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("response").Values(), jen.Err())),
		jen.Return(jen.Id("response").Values(jen.Id("resp")), jen.Nil()),
	)
	f.Comment("doc wraps a discovery document.")
	f.Func().Id("doc").Params(jen.Id("body").Index().Byte(), jen.Err().Error()).Params(jen.Id("response"), jen.Error()).Block(
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("response").Values(), jen.Err())),
		jen.Return(jen.Id("response").Values(jen.Op("&").Qual(emit.EnginePkg, "Response").Values(jen.Dict{jen.Id("Status"): jen.Lit(200), jen.Id("Body"): jen.Id("body")})), jen.Nil()),
	)
	f.Func().Id("str").Params(jen.Id("p").Op("*").String()).String().Block(
		jen.If(jen.Id("p").Op("==").Nil()).Block(jen.Return(jen.Lit(""))), jen.Return(jen.Op("*").Id("p")))

	for _, r := range m.Resources {
		resourceOps(f, r)
	}
	ctx := func() *jen.Statement { return jen.Id("ctx").Qual("context", "Context") }
	if len(m.Resources) > 0 {
		// The root search is generated, not hand-written: only the
		// generator knows every resource type and their order.
		args := []jen.Code{jen.Id("ctx"), jen.Id("req").Dot("Body")}
		for _, r := range m.Resources {
			args = append(args, jen.Id("s").Dot(field(r)))
		}
		f.Comment("Search runs one query over every resource type (RFC 7644 §3.4.3).")
		f.Func().Params(jen.Id("s").Op("*").Id("Server")).Id("Search").Params(ctx(), jen.Id("req").Id("SearchRequestObject")).
			Params(jen.Id("SearchResponseObject"), jen.Error()).Block(
			jen.Return(jen.Id("reply").Call(jen.Qual(emit.EnginePkg, "SearchAll").Call(args...))))
	}
	base := func() *jen.Statement { return jen.Qual(emit.EnginePkg, "BaseURL").Call(jen.Id("ctx")) }
	disc := []struct {
		op   string
		call *jen.Statement
	}{
		{"GetServiceProviderConfig", jen.Id("s").Dot("discovery").Dot("ServiceProviderConfig").Call(base())},
		{"ListSchemas", jen.Id("s").Dot("discovery").Dot("Schemas").Call(base())},
		{"GetSchema", jen.Id("s").Dot("discovery").Dot("Schema").Call(base(), jen.Id("req").Dot("ID"))},
		{"ListResourceTypes", jen.Id("s").Dot("discovery").Dot("ResourceTypes").Call(base())},
		{"GetResourceType", jen.Id("s").Dot("discovery").Dot("ResourceType").Call(base(), jen.Id("req").Dot("Name"))},
	}
	for _, d := range disc {
		f.Comment(fmt.Sprintf("%s serves a discovery document (RFC 7644 §4).", d.op))
		f.Func().Params(jen.Id("s").Op("*").Id("Server")).Id(d.op).Params(ctx(), jen.Id("req").Id(d.op+"RequestObject")).
			Params(jen.Id(d.op+"ResponseObject"), jen.Error()).Block(jen.Return(jen.Id("doc").Call(d.call)))
	}
	out, err := emit.Render("generated/api/handlers.gen.go", f)
	if err != nil {
		return nil, err
	}
	return []emit.File{out}, nil
}

func field(r *model.Resource) string { return naming.Go(r.Endpoint()) }

func resourceOps(f *jen.File, r *model.Resource) {
	svc := jen.Id("s").Dot(field(r))
	ctx := func() *jen.Statement { return jen.Id("ctx").Qual("context", "Context") }
	method := func(op, doc string, body ...jen.Code) {
		f.Comment(fmt.Sprintf("%s %s.", op, doc))
		f.Func().Params(jen.Id("s").Op("*").Id("Server")).Id(op).Params(ctx(), jen.Id("req").Id(op+"RequestObject")).
			Params(jen.Id(op+"ResponseObject"), jen.Error()).Block(body...)
	}
	list := "List" + naming.Go(r.Endpoint())
	method(list, fmt.Sprintf("lists or filters %s (RFC 7644 §3.4.2)", r.Endpoint()),
		jen.Id("p").Op(":=").Id("req").Dot("Params"),
		jen.Return(jen.Id("reply").Call(svc.Clone().Dot("List").Call(jen.Id("ctx"), jen.Qual(emit.EnginePkg, "ListParams").Values(jen.Dict{
			jen.Id("Filter"):     jen.Id("str").Call(jen.Id("p").Dot("Filter")),
			jen.Id("StartIndex"): jen.Id("p").Dot("StartIndex"),
			jen.Id("Count"):      jen.Id("p").Dot("Count"),
			jen.Id("SortBy"):     jen.Id("str").Call(jen.Id("p").Dot("SortBy")),
			jen.Id("SortOrder"):  jen.Id("str").Call(jen.Parens(jen.Op("*").String()).Call(jen.Id("p").Dot("SortOrder"))),
			jen.Id("Attributes"): jen.Id("str").Call(jen.Id("p").Dot("Attributes")),
			jen.Id("Excluded"):   jen.Id("str").Call(jen.Id("p").Dot("ExcludedAttributes")),
			jen.Id("Cursor"):     jen.Id("p").Dot("Cursor"),
		})))))
	search := "Search" + naming.Go(r.Endpoint())
	method(search, fmt.Sprintf("runs a SearchRequest over %s (RFC 7644 §3.4.3)", r.Endpoint()),
		jen.Return(jen.Id("reply").Call(svc.Clone().Dot("Search").Call(jen.Id("ctx"), jen.Id("req").Dot("Body")))))
	method("Create"+r.GoName, fmt.Sprintf("creates a %s (RFC 7644 §3.3)", r.Type.Name),
		jen.Return(jen.Id("reply").Call(svc.Clone().Dot("Create").Call(jen.Id("ctx"), jen.Id("req").Dot("Body")))))
	method("Get"+r.GoName, fmt.Sprintf("returns one %s (RFC 7644 §3.4.1)", r.Type.Name),
		jen.Return(jen.Id("reply").Call(svc.Clone().Dot("Get").Call(jen.Id("ctx"), jen.Id("req").Dot("ID"),
			jen.Id("str").Call(jen.Id("req").Dot("Params").Dot("Attributes")), jen.Id("str").Call(jen.Id("req").Dot("Params").Dot("ExcludedAttributes"))))))
	method("Replace"+r.GoName, fmt.Sprintf("replaces a %s (RFC 7644 §3.5.1)", r.Type.Name),
		jen.Return(jen.Id("reply").Call(svc.Clone().Dot("Replace").Call(jen.Id("ctx"), jen.Id("req").Dot("ID"), jen.Id("req").Dot("Body")))))
	method("Patch"+r.GoName, fmt.Sprintf("applies PATCH operations to a %s (RFC 7644 §3.5.2)", r.Type.Name),
		jen.Return(jen.Id("reply").Call(svc.Clone().Dot("Patch").Call(jen.Id("ctx"), jen.Id("req").Dot("ID"), jen.Id("req").Dot("Body"),
			jen.Id("str").Call(jen.Id("req").Dot("Params").Dot("Attributes")), jen.Id("str").Call(jen.Id("req").Dot("Params").Dot("ExcludedAttributes"))))))
	method("Delete"+r.GoName, fmt.Sprintf("deletes a %s (RFC 7644 §3.6)", r.Type.Name),
		jen.If(jen.Err().Op(":=").Add(svc.Clone().Dot("Delete").Call(jen.Id("ctx"), jen.Id("req").Dot("ID"))), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("response").Values(jen.Op("&").Qual(emit.EnginePkg, "Response").Values(jen.Dict{jen.Id("Status"): jen.Lit(204)})), jen.Nil()))
}
