// Package gotypes emits generated/resource: one Go struct per resource type
// and extension (with struct types for complex attributes), validator tags
// for the static rules, the SCIM rules that tags cannot express (readOnly
// input, schemas, primary, immutability), the stored-document codec and the
// typed hook interfaces.
package gotypes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
)

const dir = "generated/resource/"

// Emit returns the files of package resource.
func Emit(m *model.Model) ([]emit.File, error) {
	var files []emit.File
	add := func(path string, f *jen.File) error {
		out, err := emit.Render(path, f)
		if err == nil {
			files = append(files, out)
		}
		return err
	}
	if err := add(dir+"resource.gen.go", common(m)); err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, r := range m.Resources {
		f := emit.NewGoFile(emit.ResourcePkg, "resource")
		resourceStruct(f, r)
		complexStructs(f, r, r.Parts[0])
		methods(f, r)
		hooks(f, r, m.Membership != nil && m.Membership.Group == r)
		if err := add(dir+naming.Snake(r.GoName)+".gen.go", f); err != nil {
			return nil, err
		}
		for _, p := range r.Parts[1:] {
			if done[p.Schema.ID] {
				continue
			}
			done[p.Schema.ID] = true
			f := emit.NewGoFile(emit.ResourcePkg, "resource")
			extensionStruct(f, r, p)
			complexStructs(f, r, p)
			if err := add(dir+naming.Snake(p.GoName)+".gen.go", f); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// common emits the package doc, schema URN constants and the shared validator.
func common(m *model.Model) *jen.File {
	f := emit.NewGoFile(emit.ResourcePkg, "resource")
	f.PackageComment("Package resource holds the Go types of the SCIM resources defined in schemas/:")
	f.PackageComment("one struct per resource type and per extension, their validation rules,")
	f.PackageComment("and the hook interfaces applications implement in app/hooks.")
	var consts []jen.Code
	for _, s := range m.Set.Schemas {
		name := schemaGoName(m, s)
		if name == "" {
			continue
		}
		consts = append(consts, jen.Comment(fmt.Sprintf("%sSchemaURN is the id of the %s schema.", name, s.Name)),
			jen.Id(name+"SchemaURN").Op("=").Lit(s.ID))
	}
	f.Const().Defs(consts...)
	f.Comment("validator checks the static rules in struct tags; Register* calls on it")
	f.Comment("must happen before the server starts, as go-playground/validator requires.")
	f.Var().Id("validator").Op("=").Qual(emit.ValidatePkg, "New").Call()
	f.Comment("Validator returns the validator the generated code uses, so an application")
	f.Comment("can register its own rules at start-up (before serving requests).")
	f.Func().Id("Validator").Params().Op("*").Qual("github.com/go-playground/validator/v10", "Validate").Block(jen.Return(jen.Id("validator")))
	f.Comment("checkSchemas verifies that a request lists the resource's core schema.")
	f.Comment("Unknown URNs are tolerated (Azure AD adds its own, and sometimes misspells")
	f.Comment("the enterprise URN), and so is extension data whose URN is missing.")
	f.Func().Id("checkSchemas").Params(jen.Id("got").Index().String(), jen.Id("core").String()).Error().Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("got")).Block(
			jen.If(jen.Qual("strings", "EqualFold").Call(jen.Id("s"), jen.Id("core"))).Block(jen.Return(jen.Nil())),
		),
		jen.Return(jen.Qual(emit.ScimerrPkg, "BadRequest").Call(jen.Qual(emit.ScimerrPkg, "InvalidValue"),
			jen.Lit("\"schemas\" must list %q (RFC 7643 §3); got %q"), jen.Id("core"), jen.Id("got"))),
	)
	f.Comment("onePrimary enforces RFC 7643 §2.4: at most one value of a multi-valued")
	f.Comment("attribute has primary set to true.")
	f.Func().Id("onePrimary").Params(jen.Id("attr").String(), jen.Id("n").Int(), jen.Id("primary").Func().Params(jen.Int()).Bool()).Error().Block(
		jen.Id("seen").Op(":=").Lit(0),
		jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<").Id("n"), jen.Id("i").Op("++")).Block(
			jen.If(jen.Id("primary").Call(jen.Id("i"))).Block(jen.Id("seen").Op("++")),
		),
		jen.If(jen.Id("seen").Op(">").Lit(1)).Block(
			jen.Return(jen.Qual(emit.ScimerrPkg, "BadRequest").Call(jen.Qual(emit.ScimerrPkg, "InvalidValue"),
				jen.Lit("%s: only one value may have \"primary\": true"), jen.Id("attr"))),
		),
		jen.Return(jen.Nil()),
	)
	f.Comment("unchanged reports whether an immutable value may be written: it was")
	f.Comment("never set, or the new value is the same.")
	f.Func().Id("unchanged").Types(jen.Id("T").Comparable()).Params(jen.Id("old"), jen.Id("v").Id("T")).Bool().Block(
		jen.Var().Id("zero").Id("T"),
		jen.Return(jen.Id("old").Op("==").Id("zero").Op("||").Id("old").Op("==").Id("v")),
	)
	f.Func().Id("immutableError").Params(jen.Id("path").String()).Error().Block(
		jen.Return(jen.Qual(emit.ScimerrPkg, "BadRequest").Call(jen.Qual(emit.ScimerrPkg, "Mutability"),
			jen.Lit("%s is immutable: it cannot change once set (RFC 7643 §2.2)"), jen.Id("path"))),
	)
	return f
}

func schemaGoName(m *model.Model, s *schema.Schema) string {
	for _, r := range m.Resources {
		for _, p := range r.Parts {
			if p.Schema == s {
				return p.GoName
			}
		}
	}
	return ""
}

// scalar returns the Go type of one value of a simple attribute.
func scalar(a *schema.Attribute) *jen.Statement {
	switch a.Type {
	case schema.Boolean:
		return jen.Op("*").Qual(emit.ScimtypePkg, "Boolean")
	case schema.Integer:
		return jen.Op("*").Int64()
	case schema.Decimal:
		return jen.Op("*").Float64()
	}
	return jen.String()
}

// fieldType returns the Go type of an attribute's field.
func fieldType(p *model.Part, a *schema.Attribute) *jen.Statement {
	switch {
	case a.Type == schema.Complex && a.MultiValued:
		return jen.Index().Id(model.StructName(p, a))
	case a.Type == schema.Complex:
		return jen.Op("*").Id(model.StructName(p, a))
	case a.MultiValued:
		el := jen.String()
		switch a.Type {
		case schema.Boolean:
			el = jen.Qual(emit.ScimtypePkg, "Boolean")
		case schema.Integer:
			el = jen.Int64()
		case schema.Decimal:
			el = jen.Float64()
		}
		return jen.Index().Add(el)
	}
	return scalar(a)
}

// valueRules are the validator tags for one value of a simple attribute.
func valueRules(a *schema.Attribute) []string {
	var rules []string
	switch a.Type {
	case schema.DateTime:
		rules = append(rules, "scim_datetime")
	case schema.Binary:
		rules = append(rules, "scim_binary")
	case schema.Reference:
		for _, t := range a.ReferenceTypes {
			if t == "uri" || t == "external" {
				rules = append(rules, "scim_uri")
				break
			}
		}
	case schema.String:
		if len(a.CanonicalValues) > 0 && canonicalTaggable(a.CanonicalValues) {
			rules = append(rules, "scim_canonical="+strings.Join(a.CanonicalValues, " "))
		}
		if a.Mutability == schema.WriteOnly && a.Returned == schema.ReturnedNever {
			rules = append(rules, "max=72") // bcrypt's input limit
		}
	}
	return rules
}

// canonicalTaggable reports whether the values fit in a validator tag
// parameter (which cannot hold spaces, commas or '|').
func canonicalTaggable(vs []string) bool {
	for _, v := range vs {
		if v == "" || strings.ContainsAny(v, " ,|=") {
			return false
		}
	}
	return true
}

// validateTag is the go-playground/validator tag of an attribute's field.
func validateTag(a *schema.Attribute) string {
	var rules []string
	if a.Required && a.Mutability != schema.ReadOnly {
		rules = append(rules, "required")
		if a.Type == schema.String && !a.MultiValued {
			rules = append(rules, "scim_notblank")
		}
	} else {
		rules = append(rules, "omitempty")
	}
	switch {
	case a.Type == schema.Complex && a.MultiValued:
		rules = append(rules, "dive")
	case a.Type == schema.Complex:
		if !a.Required {
			return "" // validator descends into the struct anyway
		}
		return strings.Join(rules, ",")
	case a.MultiValued:
		if vr := valueRules(a); len(vr) > 0 {
			rules = append(append(rules, "dive"), vr...)
		}
	default:
		rules = append(rules, valueRules(a)...)
	}
	if len(rules) == 1 && rules[0] == "omitempty" {
		return ""
	}
	return strings.Join(rules, ",")
}

// characteristics is the short doc suffix of an attribute.
func characteristics(a *schema.Attribute) string {
	c := a.Characteristics()
	if len(c) == 0 {
		return ""
	}
	return " (" + strings.Join(c, "; ") + ")"
}

// docLine makes a one-sentence doc comment from a schema description.
func docLine(goName, description string, a *schema.Attribute) string {
	d := strings.Join(strings.Fields(description), " ")
	if d == "" {
		d = "has no description in the schema."
	}
	s := goName + ": " + d
	if a != nil {
		s += characteristics(a)
	}
	return s
}

func field(p *model.Part, a *schema.Attribute) jen.Code {
	tags := map[string]string{"json": a.Name + ",omitempty"}
	if v := validateTag(a); v != "" {
		tags["validate"] = v
	}
	st := jen.Null()
	for _, line := range strings.Split(wrap(docLine(naming.Go(a.Name), a.Description, a)), "\n") {
		st = st.Comment(line).Line()
	}
	return st.Id(naming.Go(a.Name)).Add(fieldType(p, a)).Tag(tags)
}

func resourceStruct(f *jen.File, r *model.Resource) {
	core := r.Parts[0]
	fields := []jen.Code{
		jen.Comment("Schemas lists the schema URNs of the resource; the server sets it on output."),
		jen.Id("Schemas").Index().String().Tag(map[string]string{"json": "schemas,omitempty"}),
		jen.Comment("ID is assigned by the server and never changes (readOnly; returned always)."),
		jen.Id("ID").String().Tag(map[string]string{"json": "id,omitempty"}),
		jen.Comment("ExternalID is the provisioning client's identifier for the resource."),
		jen.Id("ExternalID").String().Tag(map[string]string{"json": "externalId,omitempty"}),
		jen.Comment("Meta is maintained by the server (readOnly)."),
		jen.Id("Meta").Op("*").Qual(emit.ScimtypePkg, "Meta").Tag(map[string]string{"json": "meta,omitempty"}),
	}
	for _, a := range core.Schema.Attributes {
		fields = append(fields, field(core, a))
	}
	for _, p := range r.Parts[1:] {
		tags := map[string]string{"json": p.Schema.ID + ",omitempty"}
		if p.Required {
			tags["validate"] = "required"
		}
		fields = append(fields,
			jen.Comment(fmt.Sprintf("%s holds the %s extension (%s).", p.GoName, p.Schema.Name, p.Schema.ID)),
			jen.Id(p.GoName).Op("*").Id(p.GoName).Tag(tags))
	}
	f.Comment(fmt.Sprintf("%s is a SCIM %s resource (endpoint %s, schema %s).", r.GoName, r.Type.Name, r.Type.Endpoint, core.Schema.ID))
	if d := strings.Join(strings.Fields(r.Type.Description), " "); d != "" {
		f.Comment(d)
	}
	f.Type().Id(r.GoName).Struct(fields...)
}

func extensionStruct(f *jen.File, r *model.Resource, p *model.Part) {
	var fields []jen.Code
	for _, a := range p.Schema.Attributes {
		fields = append(fields, field(p, a))
	}
	f.Comment(docLine(p.GoName, p.Schema.Description, nil))
	f.Comment(fmt.Sprintf("It is the %s extension schema %s.", p.Schema.Name, p.Schema.ID))
	f.Type().Id(p.GoName).Struct(fields...)
}

// complexStructs emits a struct per complex attribute of a part.
func complexStructs(f *jen.File, r *model.Resource, p *model.Part) {
	for _, a := range p.Schema.Attributes {
		if a.Type != schema.Complex {
			continue
		}
		name := model.StructName(p, a)
		var fields []jen.Code
		for _, s := range a.SubAttributes {
			fields = append(fields, field(p, s))
		}
		what := "a value of"
		if !a.MultiValued {
			what = "the value of"
		}
		f.Comment(fmt.Sprintf("%s is %s the %q attribute of %s.", name, what, a.Name, p.GoName))
		f.Type().Id(name).Struct(fields...)
		if !a.MultiValued && a.Sub("value") != nil && a.Sub("value").Type != schema.Complex {
			lenientComplex(f, name)
		}
	}
}

// lenientComplex lets a singular complex attribute with a "value"
// sub-attribute be sent as a bare string or a one-element array, as Azure
// AD sends the enterprise "manager" (clients.md AZ-U10, quirk Q8).
func lenientComplex(f *jen.File, name string) {
	f.Comment(fmt.Sprintf("UnmarshalJSON accepts an object, a bare string (taken as %q) or a", "value"))
	f.Comment("one-element array, the three shapes provisioning clients send.")
	f.Func().Params(jen.Id("x").Op("*").Id(name)).Id("UnmarshalJSON").Params(jen.Id("b").Index().Byte()).Error().Block(
		jen.Id("b").Op("=").Qual("bytes", "TrimSpace").Call(jen.Id("b")),
		jen.If(jen.Len(jen.Id("b")).Op(">").Lit(0).Op("&&").Id("b").Index(jen.Lit(0)).Op("==").LitRune('"')).Block(
			jen.Var().Id("s").String(),
			jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("s")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.Op("*").Id("x").Op("=").Id(name).Values(jen.Dict{jen.Id("Value"): jen.Id("s")}),
			jen.Return(jen.Nil()),
		),
		jen.Type().Id("plain").Id(name),
		jen.If(jen.Len(jen.Id("b")).Op(">").Lit(0).Op("&&").Id("b").Index(jen.Lit(0)).Op("==").LitRune('[')).Block(
			jen.Var().Id("arr").Index().Id("plain"),
			jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("arr")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.If(jen.Len(jen.Id("arr")).Op(">").Lit(0)).Block(jen.Op("*").Id("x").Op("=").Id(name).Call(jen.Id("arr").Index(jen.Lit(0)))),
			jen.Return(jen.Nil()),
		),
		jen.Return(jen.Qual("encoding/json", "Unmarshal").Call(jen.Id("b"), jen.Parens(jen.Op("*").Id("plain")).Call(jen.Id("x")))),
	)
}

// access is how generated code reaches an attribute of a resource value v:
// the Go expression of its parent value and a guard that it exists.
type access struct {
	expr  string // "v" or "v.EnterpriseUser"
	guard string // "" or "v.EnterpriseUser != nil"
}

func partAccess(r *model.Resource, p *model.Part) access {
	if !p.Extension {
		return access{expr: "v"}
	}
	return access{expr: "v." + p.GoName, guard: "v." + p.GoName + " != nil"}
}

// methods emits Prepare, CheckImmutable, Encode, Decode and SetServerAttrs.
func methods(f *jen.File, r *model.Resource) {
	recv := func() *jen.Statement { return jen.Params(jen.Id("v").Op("*").Id(r.GoName)) }
	var extURNs []jen.Code
	for _, p := range r.Parts[1:] {
		extURNs = append(extURNs, jen.Id(p.GoName+"SchemaURN"))
	}
	lower := strings.ToLower(r.GoName[:1]) + r.GoName[1:]
	f.Var().Id(lower + "Extensions").Op("=").Index().String().Values(extURNs...)

	// Prepare.
	var body []jen.Code
	body = append(body, jen.Comment("readOnly attributes are ignored on input (RFC 7643 §2.2)."),
		jen.Id("v").Dot("ID").Op("=").Lit(""), jen.Id("v").Dot("Meta").Op("=").Nil())
	for _, p := range r.Parts {
		body = append(body, readOnlyClears(r, p)...)
	}
	body = append(body,
		jen.Qual(emit.ValidatePkg, "Normalize").Call(jen.Id("v")),
		jen.If(jen.Err().Op(":=").Id("checkSchemas").Call(jen.Id("v").Dot("Schemas"), jen.Id(r.GoName+"SchemaURN")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.If(jen.Err().Op(":=").Qual(emit.ValidatePkg, "Struct").Call(jen.Id("validator"), jen.Id("v"), jen.Id(lower+"Extensions")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
	)
	for _, p := range r.Parts {
		body = append(body, primaryChecks(r, p)...)
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Comment("Prepare readies a request value for create or replace: it drops readOnly")
	f.Comment("input, normalises empty values, and checks the schema rules. Errors are")
	f.Comment("*scimerr.Error values with status 400.")
	f.Func().Add(recv()).Id("Prepare").Params(jen.Id("op").Qual(emit.EnginePkg, "Op")).Error().Block(body...)

	// CheckImmutable.
	body = nil
	for _, p := range r.Parts {
		body = append(body, immutableChecks(r, p)...)
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Comment("CheckImmutable rejects a replace that changes an immutable attribute.")
	f.Func().Add(recv()).Id("CheckImmutable").Params(jen.Id("old").Op("*").Id(r.GoName)).Error().Block(body...)

	// Encode.
	body = []jen.Code{jen.Id("v").Dot("Schemas").Op("=").Index().String().Values(jen.Id(r.GoName + "SchemaURN"))}
	for _, p := range r.Parts[1:] {
		body = append(body, jen.If(jen.Id("v").Dot(p.GoName).Op("!=").Nil()).Block(
			jen.Id("v").Dot("Schemas").Op("=").Append(jen.Id("v").Dot("Schemas"), jen.Id(p.GoName+"SchemaURN"))))
	}
	body = append(body, jen.Id("c").Op(":=").Op("*").Id("v"),
		jen.Id("c").Dot("ID").Op("=").Lit(""), jen.Id("c").Dot("Meta").Op("=").Nil())
	for _, a := range r.Parts[0].Schema.Attributes {
		if a == r.Members || a == r.Groups || a.Returned == schema.ReturnedNever {
			body = append(body, jen.Id("c").Dot(naming.Go(a.Name)).Op("=").Add(zero(r.Parts[0], a)))
		}
	}
	for _, p := range r.Parts[1:] {
		var clears []jen.Code
		for _, a := range p.Schema.Attributes {
			if a.Returned == schema.ReturnedNever {
				clears = append(clears, jen.Id("e").Dot(naming.Go(a.Name)).Op("=").Add(zero(p, a)))
			}
		}
		if len(clears) > 0 {
			body = append(body, jen.If(jen.Id("c").Dot(p.GoName).Op("!=").Nil()).Block(append([]jen.Code{
				jen.Id("e").Op(":=").Op("*").Id("c").Dot(p.GoName)}, append(clears, jen.Id("c").Dot(p.GoName).Op("=").Op("&").Id("e"))...)...))
		}
	}
	body = append(body, jen.Return(jen.Qual("encoding/json", "Marshal").Call(jen.Op("&").Id("c"))))
	f.Comment("Encode returns the stored document of v: every attribute except id, meta,")
	f.Comment("derived attributes and returned:\"never\" ones. It sets v.Schemas to the core")
	f.Comment("schema plus the extensions v carries.")
	f.Func().Add(recv()).Id("Encode").Params().Params(jen.Index().Byte(), jen.Error()).Block(body...)

	// Decode.
	f.Comment(fmt.Sprintf("Decode%s reads a stored document back.", r.GoName))
	f.Func().Id("Decode"+r.GoName).Params(jen.Id("doc").Index().Byte()).Params(jen.Op("*").Id(r.GoName), jen.Error()).Block(
		jen.Id("v").Op(":=").New(jen.Id(r.GoName)),
		jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("doc"), jen.Id("v")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("decode stored "+r.Type.Name+": %w"), jen.Err()))),
		jen.Return(jen.Id("v"), jen.Nil()),
	)

	// SetServerAttrs.
	f.Comment("SetServerAttrs sets the server-maintained id and meta.")
	f.Func().Add(recv()).Id("SetServerAttrs").Params(jen.Id("id").String(), jen.Id("m").Qual(emit.EnginePkg, "MetaValues")).Block(
		jen.Id("v").Dot("ID").Op("=").Id("id"),
		jen.Id("v").Dot("Meta").Op("=").Op("&").Qual(emit.ScimtypePkg, "Meta").Values(jen.Dict{
			jen.Id("ResourceType"): jen.Id("m").Dot("ResourceType"),
			jen.Id("Created"):      jen.Id("m").Dot("Created"),
			jen.Id("LastModified"): jen.Id("m").Dot("LastModified"),
			jen.Id("Location"):     jen.Id("m").Dot("Location"),
			jen.Id("Version"):      jen.Id("m").Dot("Version"),
		}),
	)
}

func zero(p *model.Part, a *schema.Attribute) *jen.Statement {
	if a.MultiValued || a.Type == schema.Complex || a.Type == schema.Boolean || a.Type == schema.Integer || a.Type == schema.Decimal {
		return jen.Nil()
	}
	return jen.Lit("")
}

// guarded wraps stmts in "if guard { … }" when there is a guard.
func guarded(guard string, stmts ...jen.Code) []jen.Code {
	if guard == "" {
		return stmts
	}
	return []jen.Code{jen.If(jen.Op(guard)).Block(stmts...)}
}

func readOnlyClears(r *model.Resource, p *model.Part) []jen.Code {
	acc := partAccess(r, p)
	var out []jen.Code
	for _, a := range p.Schema.Attributes {
		if a == r.Members {
			// members is stored; only its readOnly sub-attributes are dropped below.
		} else if a.Mutability == schema.ReadOnly {
			out = append(out, jen.Op(acc.expr+"."+naming.Go(a.Name)).Op("=").Add(zero(p, a)))
			continue
		}
		if a.Type != schema.Complex {
			continue
		}
		for _, s := range a.SubAttributes {
			if s.Mutability != schema.ReadOnly {
				continue
			}
			fieldExpr := acc.expr + "." + naming.Go(a.Name)
			if a.MultiValued {
				out = append(out, jen.For(jen.Id("i").Op(":=").Range().Op(fieldExpr)).Block(
					jen.Op(fieldExpr).Index(jen.Id("i")).Dot(naming.Go(s.Name)).Op("=").Add(zero(p, s))))
			} else {
				out = append(out, jen.If(jen.Op(fieldExpr).Op("!=").Nil()).Block(
					jen.Op(fieldExpr).Dot(naming.Go(s.Name)).Op("=").Add(zero(p, s))))
			}
		}
	}
	return guarded(acc.guard, out...)
}

func primaryChecks(r *model.Resource, p *model.Part) []jen.Code {
	acc := partAccess(r, p)
	var out []jen.Code
	for _, a := range p.Schema.Attributes {
		if !a.MultiValued || a.Type != schema.Complex {
			continue
		}
		fieldExpr := acc.expr + "." + naming.Go(a.Name)
		prim := a.Sub("primary")
		if prim == nil || prim.Type != schema.Boolean || prim.MultiValued {
			continue
		}
		out = append(out, jen.If(jen.Err().Op(":=").Id("onePrimary").Call(
			jen.Lit(pathOf(p, a)), jen.Len(jen.Op(fieldExpr)),
			jen.Func().Params(jen.Id("i").Int()).Bool().Block(
				jen.Return(jen.Op(fieldExpr).Index(jen.Id("i")).Dot(naming.Go(prim.Name)).Op("!=").Nil().Op("&&").
					Bool().Call(jen.Op("*").Op(fieldExpr).Index(jen.Id("i")).Dot(naming.Go(prim.Name))))),
		), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())))
	}
	return guarded(acc.guard, out...)
}

func pathOf(p *model.Part, a *schema.Attribute) string {
	if p.Extension {
		return p.Schema.ID + ":" + a.Path()
	}
	return a.Path()
}

func immutableChecks(r *model.Resource, p *model.Part) []jen.Code {
	var out []jen.Code
	oldExpr, newExpr, guard := "old", "v", ""
	if p.Extension {
		oldExpr, newExpr = "old."+p.GoName, "v."+p.GoName
		guard = oldExpr + " != nil && " + newExpr + " != nil"
	}
	cmp := func(a *schema.Attribute, o, n string) jen.Code {
		deref := ""
		if a.Type == schema.Boolean || a.Type == schema.Integer || a.Type == schema.Decimal {
			// Pointers: compare the values when both are set.
			return jen.If(jen.Op(o).Op("!=").Nil().Op("&&").Op("(" + n + " == nil || *" + n + " != *" + o + ")")).Block(
				jen.Return(jen.Id("immutableError").Call(jen.Lit(pathOf(p, a)))))
		}
		return jen.If(jen.Op("!").Id("unchanged").Call(jen.Op(deref+o), jen.Op(deref+n))).Block(
			jen.Return(jen.Id("immutableError").Call(jen.Lit(pathOf(p, a)))))
	}
	for _, a := range p.Schema.Attributes {
		if a.MultiValued {
			continue // multi-valued values are replaced as a whole
		}
		f := naming.Go(a.Name)
		if a.Type != schema.Complex {
			if a.Mutability == schema.Immutable {
				out = append(out, cmp(a, oldExpr+"."+f, newExpr+"."+f))
			}
			continue
		}
		var subs []jen.Code
		for _, s := range a.SubAttributes {
			if s.Mutability == schema.Immutable && !s.MultiValued {
				sa := *s
				sa.Name = a.Name + "." + s.Name
				subs = append(subs, cmp(&sa, oldExpr+"."+f+"."+naming.Go(s.Name), newExpr+"."+f+"."+naming.Go(s.Name)))
			}
		}
		if len(subs) > 0 {
			out = append(out, jen.If(jen.Op(oldExpr+"."+f+" != nil && "+newExpr+"."+f+" != nil")).Block(subs...))
		}
	}
	return guarded(guard, out...)
}

// hooks emits the typed hook interface and its no-op implementation. The
// group type of the membership also gets the membership hooks.
func hooks(f *jen.File, r *model.Resource, group bool) {
	n := r.GoName
	w := n + "Write"
	ctx := func() *jen.Statement { return jen.Id("ctx").Qual("context", "Context") }
	f.Comment(fmt.Sprintf("%s is what %s hooks learn about one write: the transaction (Before hooks),", w, n))
	f.Comment("the old and the new value, the version, the changed attribute paths (see engine.Write).")
	f.Type().Id(w).Op("=").Qual(emit.EnginePkg, "Write").Types(jen.Id(n))
	f.Comment(fmt.Sprintf("%sHooks is what an application implements to add behaviour around %s", n, r.Type.Name))
	f.Comment("writes without touching generated code. Before hooks run inside the write's")
	f.Comment("transaction: they may change w.New (it is validated again), reject the write")
	f.Comment("(return a *scimerr.Error to choose the SCIM error; other errors become a 500),")
	f.Comment("or write the application's own rows through w.Tx. After hooks run once the")
	f.Comment("write has committed; their errors are logged. Embed Unimplemented" + n + "Hooks to")
	f.Comment("implement only some. docs/hooks.md has the whole contract.")
	type method struct {
		name  string
		param jen.Code
	}
	var ms []method
	for _, op := range []string{"Create", "Replace", "Patch", "Delete"} {
		for _, when := range []string{"Before", "After"} {
			ms = append(ms, method{when + op, jen.Id("w").Op("*").Id(w)})
		}
	}
	if group {
		for _, when := range []string{"Before", "After"} {
			ms = append(ms, method{when + "MembersChange", jen.Id("c").Op("*").Qual(emit.EnginePkg, "MemberChange")})
		}
	}
	var sigs []jen.Code
	for _, m := range ms {
		sigs = append(sigs, jen.Id(m.name).Params(ctx(), m.param).Error())
	}
	f.Type().Id(n + "Hooks").Interface(sigs...)
	u := "Unimplemented" + n + "Hooks"
	f.Comment(fmt.Sprintf("%s does nothing; embed it so that hooks added by later", u))
	f.Comment("generator versions keep application code compiling.")
	f.Type().Id(u).Struct()
	for _, m := range ms {
		f.Comment(m.name + " does nothing.")
		f.Func().Params(jen.Id(u)).Id(m.name).Params(ctx(), m.param).Error().Block(jen.Return(jen.Nil()))
	}
	f.Var().Id("_").Qual(emit.EnginePkg, "Hooks").Types(jen.Id(n)).Op("=").Id(u).Values()
	if group {
		f.Var().Id("_").Qual(emit.EnginePkg, "MembershipHooks").Op("=").Id(u).Values()
	}
}

// wrap breaks a doc comment into lines of about 100 columns (jennifer
// writes each line of a multi-line comment with its own "//").
func wrap(s string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+1+len(w) > 96 {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
