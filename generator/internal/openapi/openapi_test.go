package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"github.com/scimforge/scimforge/internal/fixture"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/scimforge/scimforge/scim/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

var testOptions = Options{
	Version:       "0.1.0",
	GoTypesImport: "github.com/scimforge/scimforge/generated/resource",
	MetaGoType:    "github.com/scimforge/scimforge/scim/scimtype.Meta",
	Title:         "Small SCIM API",
	Description:   "The SCIM endpoint of the small test schemas.",
	Contact:       &openapi3.Contact{Name: "Identity team", Email: "identity@example.org"},
	License:       &openapi3.License{Name: "Apache 2.0", URL: "https://www.apache.org/licenses/LICENSE-2.0.html"},
	Servers: openapi3.Servers{
		{URL: "https://scim.example.org/t/{tenant}/scim/v2", Description: "Production", Variables: map[string]*openapi3.ServerVariable{"tenant": {Default: "acme"}}},
		{URL: "/scim/v2", Description: "Where this document is served"},
	},
}

func load(t *testing.T, fsys fs.FS, root string) *schema.Set {
	t.Helper()
	set, err := schema.Load(fsys, root)
	if err != nil {
		t.Fatalf("loading %s: %v", root, err)
	}
	return set
}

// realSchemas loads the test fixture's copy of the shipped schemas
// (internal/fixture), so that these tests do not change with an app's own
// schemas/.
func realSchemas(t *testing.T) *schema.Set {
	t.Helper()
	return load(t, fixture.FS, fixture.Root)
}

func buildBoth(t *testing.T, set *schema.Set) (pub, cg *openapi3.T, pubYAML, cgYAML []byte) {
	t.Helper()
	pub, cg, err := Build(set, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if pubYAML, err = Marshal(pub); err != nil {
		t.Fatal(err)
	}
	if cgYAML, err = Marshal(cg); err != nil {
		t.Fatal(err)
	}
	return pub, cg, pubYAML, cgYAML
}

func TestGolden(t *testing.T) {
	_, _, pub, cg := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	for file, got := range map[string][]byte{
		"testdata/small.golden.yaml":         pub,
		"testdata/small.codegen.golden.yaml": cg,
	} {
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run go test ./generator/internal/openapi -update and review the diff", file)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for name, set := range map[string]func(*testing.T) *schema.Set{
		"small": func(t *testing.T) *schema.Set { return load(t, os.DirFS("testdata"), "small") },
		"real":  realSchemas,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, pub1, cg1 := buildBoth(t, set(t))
			_, _, pub2, cg2 := buildBoth(t, set(t))
			if !bytes.Equal(pub1, pub2) || !bytes.Equal(cg1, cg2) {
				t.Fatal("two builds of the same schemas differ")
			}
		})
	}
}

func TestRealSchemas(t *testing.T) {
	pub, cg, pubYAML, cgYAML := buildBoth(t, realSchemas(t))

	for _, doc := range []*openapi3.T{pub, cg} {
		for _, c := range []struct{ path, method, id string }{
			{"/Users", "GET", "listUsers"},
			{"/Users", "POST", "createUser"},
			{"/Users/{id}", "GET", "getUser"},
			{"/Users/{id}", "PUT", "replaceUser"},
			{"/Users/{id}", "DELETE", "deleteUser"},
			{"/Groups", "GET", "listGroups"},
			{"/Groups", "POST", "createGroup"},
			{"/Groups/{id}", "DELETE", "deleteGroup"},
			{"/ServiceProviderConfig", "GET", "getServiceProviderConfig"},
			{"/Schemas", "GET", "listSchemas"},
			{"/Schemas/{id}", "GET", "getSchema"},
			{"/ResourceTypes", "GET", "listResourceTypes"},
			{"/ResourceTypes/{name}", "GET", "getResourceType"},
		} {
			item := doc.Paths.Value(c.path)
			if item == nil || item.GetOperation(c.method) == nil {
				t.Errorf("no %s %s", c.method, c.path)
				continue
			}
			if got := item.GetOperation(c.method).OperationID; got != c.id {
				t.Errorf("%s %s: operationId %q, want %q", c.method, c.path, got, c.id)
			}
		}
		if op := doc.Paths.Value("/Users/{id}").Patch; op == nil || op.OperationID != "patchUser" {
			t.Error("no PATCH /Users/{id} (patchUser)")
		}
		for _, name := range []string{"User", "Group", "EnterpriseUser", "AcmeUser", "UserEmail", "UserAddress",
			"UserName", "GroupMember", "AcmeUserProject", "EnterpriseUserManager", "UserListResponse",
			"GroupListResponse", "Error", "Meta", "Schema", "SchemaAttribute", "ResourceType", "ServiceProviderConfig"} {
			if doc.Components.Schemas[name] == nil {
				t.Errorf("no component schema %s", name)
			}
		}
	}

	user := pub.Components.Schemas["User"].Value
	if p := user.Properties["password"].Value; !p.WriteOnly || p.ReadOnly {
		t.Errorf("password: writeOnly=%v readOnly=%v, want writeOnly only", p.WriteOnly, p.ReadOnly)
	}
	if p := user.Properties["id"].Value; !p.ReadOnly {
		t.Error("id is not readOnly")
	}
	if slices.Contains(user.Required, "userName") {
		t.Errorf("User.required = %v: userName is returned default, so GET ?attributes=displayName leaves it out", user.Required)
	}
	for _, m := range []string{"POST", "PUT"} {
		path := "/Users"
		if m == "PUT" {
			path = "/Users/{id}"
		}
		if o := requiredInRequest(t, pub, path, m); o == nil || !slices.Contains(o.Required, "userName") {
			t.Errorf("%s %s request body does not require userName", m, path)
		}
	}
	if got := user.Properties["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].Ref; got != "#/components/schemas/EnterpriseUser" {
		t.Errorf("enterprise extension property refers to %q", got)
	}
	if got := user.Properties["emails"].Value.Items.Ref; got != "#/components/schemas/UserEmail" {
		t.Errorf("emails items refer to %q", got)
	}
	if d := user.Properties["userName"].Value.Description; !strings.HasSuffix(d, "(required; uniqueness server; case-insensitive)") {
		t.Errorf("userName description %q lacks the characteristics", d)
	}

	// The x-go-* annotations are in the codegen view only.
	if bytes.Contains(pubYAML, []byte("x-go-")) {
		t.Error("the published view contains x-go-* extensions")
	}
	for _, want := range []string{
		"x-go-type: resource.User\n", "x-go-type: resource.Group\n", "x-go-type: resource.EnterpriseUser\n",
		"x-go-type: resource.AcmeUser\n", "x-go-type: resource.UserEmail\n", "x-go-type: scimtype.Meta\n",
		"x-go-name: EnterpriseUser\n",
	} {
		if !bytes.Contains(cgYAML, []byte(want)) {
			t.Errorf("the codegen view lacks %q", strings.TrimSpace(want))
		}
	}
	ext := cg.Components.Schemas["User"].Value.Extensions
	if imp, _ := ext["x-go-type-import"].(map[string]any); imp["path"] != testOptions.GoTypesImport || imp["name"] != "resource" {
		t.Errorf("User x-go-type-import = %v", ext["x-go-type-import"])
	}
	for _, name := range []string{"Error", "UserListResponse", "Schema"} {
		if _, ok := cg.Components.Schemas[name].Value.Extensions["x-go-type"]; ok {
			t.Errorf("%s has x-go-type; oapi-codegen should generate it", name)
		}
	}

	// Content types: both in the published view, scim+json alone for codegen.
	create := func(doc *openapi3.T) *openapi3.Operation { return doc.Paths.Value("/Users").Post }
	if got := mediaTypes(create(pub).RequestBody.Value.Content); !slices.Equal(got, []string{mediaJSON, mediaSCIM}) {
		t.Errorf("published createUser request media types %v", got)
	}
	if got := mediaTypes(create(cg).RequestBody.Value.Content); !slices.Equal(got, []string{mediaSCIM}) {
		t.Errorf("codegen createUser request media types %v", got)
	}
	if got := mediaTypes(create(cg).Responses.Status(201).Value.Content); !slices.Equal(got, []string{mediaSCIM}) {
		t.Errorf("codegen createUser 201 media types %v", got)
	}
}

func mediaTypes(c openapi3.Content) []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestViews checks that the two views are the same document apart from the
// x-go-* extensions and the application/json bodies.
func TestViews(t *testing.T) {
	pub, cg, _, _ := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	// The published view's request bodies are <Name>Request components:
	// the resource plus the required attributes in an allOf; codegen
	// binds the resource itself.
	requests := map[string]string{}
	for name := range pub.Components.Schemas {
		if base, ok := strings.CutSuffix(name, "Request"); ok && cg.Components.Schemas[name] == nil {
			requests["#/components/schemas/"+name] = "#/components/schemas/" + base
		}
	}
	if len(requests) == 0 {
		t.Fatal("the published view has no request components")
	}
	strip := func(doc *openapi3.T) any {
		raw, err := doc.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		schemas := v.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)
		for ref := range requests {
			delete(schemas, strings.TrimPrefix(ref, "#/components/schemas/"))
		}
		return stripNoise(v, "", requests)
	}
	a, _ := json.Marshal(strip(pub))
	b, _ := json.Marshal(strip(cg))
	if !bytes.Equal(a, b) {
		t.Errorf("the views differ beyond x-go-* and application/json:\npublished: %s\ncodegen:   %s", a, b)
	}
}

func stripNoise(v any, key string, refs map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if strings.HasPrefix(k, "x-go-") || (key == "content" && k == mediaJSON) {
				continue
			}
			if r, ok := e.(string); ok && k == "$ref" && refs[r] != "" {
				e = refs[r]
			}
			out[k] = stripNoise(e, k, refs)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = stripNoise(e, "", refs)
		}
		return out
	}
	return v
}

func TestAttributeMapping(t *testing.T) {
	pub, cg, _, _ := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	user := pub.Components.Schemas["User"].Value
	prop := func(name string) *openapi3.Schema {
		t.Helper()
		p := user.Properties[name]
		if p == nil || p.Value == nil {
			t.Fatalf("User has no property %s", name)
		}
		return p.Value
	}
	for _, c := range []struct{ name, typ, format string }{
		{"userName", "string", ""},
		{"active", "boolean", ""},
		{"loginCount", "integer", "int64"},
		{"quota", "number", "double"},
		{"lastLogin", "string", "date-time"},
		{"avatar", "string", "byte"},
		{"profileUrl", "string", "uri"},
		{"buddy", "string", ""}, // referenceTypes [User]: often relative, so no uri format
		{"nicknames", "array", ""},
	} {
		p := prop(c.name)
		if !p.Type.Is(c.typ) || p.Format != c.format {
			t.Errorf("%s: type %v format %q, want %s %q", c.name, p.Type.Slice(), p.Format, c.typ, c.format)
		}
	}
	if !prop("nicknames").Items.Value.Type.Is("string") {
		t.Error("nicknames items are not strings")
	}
	if p := prop("loginCount"); !p.ReadOnly {
		t.Error("loginCount (readOnly) is not readOnly")
	}
	if p := prop("password"); !p.WriteOnly {
		t.Error("password (writeOnly, returned never) is not writeOnly")
	}
	if p := prop("recoveryCode"); !p.WriteOnly {
		t.Error("recoveryCode (readWrite, returned never) is not documented as writeOnly")
	}
	if d := prop("employeeId").Description; !strings.Contains(d, "immutable") || !strings.Contains(d, "case-exact") {
		t.Errorf("employeeId description %q", d)
	}
	if d := prop("quota").Description; !strings.Contains(d, "returned request") {
		t.Errorf("quota description %q", d)
	}
	if d := prop("userName").Description; d != "Unique identifier for the User. REQUIRED. (required; uniqueness server; case-insensitive)" {
		t.Errorf("userName description %q", d)
	}
	if p := prop("teams"); !p.ReadOnly || p.Items.Ref != "#/components/schemas/UserTeam" {
		t.Errorf("teams: readOnly=%v items=%q", p.ReadOnly, p.Items.Ref)
	}
	if got := user.Properties["name"].Ref; got != "#/components/schemas/UserName" {
		t.Errorf("name refers to %q", got)
	}

	// Responses may be trimmed by attributes/excludedAttributes: only what
	// is returned always is required of them.
	if want := []string{"schemas", "id"}; !slices.Equal(user.Required, want) {
		t.Errorf("User.required = %v, want %v", user.Required, want)
	}
	// Requests must carry every required attribute, at every level, and
	// the required extension.
	req := requiredInRequest(t, pub, "/Users", "POST")
	if want := []string{"userName", "urn:example:params:scim:schemas:extension:badge:2.0:User"}; req == nil || !slices.Equal(req.Required, want) {
		t.Fatalf("createUser request overlay %+v, want required %v", req, want)
	}
	// Nested levels name the component they add requirements to, so that
	// every required name sits beside its property (Redocly's
	// no-required-schema-properties-undefined).
	nested := func(s *openapi3.SchemaRef, component string) []string {
		if s == nil || s.Value == nil || len(s.Value.AllOf) != 2 || s.Value.AllOf[0].Ref != "#/components/schemas/"+component {
			return nil
		}
		return s.Value.AllOf[1].Value.Required
	}
	if got := req.Properties["emails"]; got == nil || got.Value.Items == nil || !slices.Equal(nested(got.Value.Items, "UserEmail"), []string{"value"}) {
		t.Errorf("createUser request: emails items do not require value")
	}
	if got := req.Properties["name"]; !slices.Equal(nested(got, "UserName"), []string{"givenName"}) {
		t.Errorf("createUser request: name does not require givenName")
	}
	if got := req.Properties["urn:example:params:scim:schemas:extension:badge:2.0:User"]; !slices.Equal(nested(got, "BadgeUser"), []string{"number"}) {
		t.Errorf("createUser request: the badge extension does not require number")
	}
	if body := cg.Paths.Value("/Users").Post.RequestBody.Value.Content.Get(mediaSCIM).Schema; body.Ref != "#/components/schemas/User" {
		t.Errorf("codegen createUser body is not the User component: %+v", body)
	}

	email := pub.Components.Schemas["UserEmail"].Value
	typ := email.Properties["type"].Value
	if len(typ.Enum) != 0 {
		t.Errorf("canonical values became an enum: %v", typ.Enum)
	}
	if !strings.Contains(typ.Description, "one of work, home (any case)") {
		t.Errorf("UserEmail.type description %q lacks the canonical values", typ.Description)
	}
	if len(email.Required) != 0 {
		t.Errorf("UserEmail.required = %v; ?attributes=emails.type returns emails without value", email.Required)
	}
	if got := pub.Components.Schemas["UserName"].Value.Required; len(got) != 0 {
		t.Errorf("UserName.required = %v; ?attributes=name.familyName returns a name without givenName", got)
	}
	// A singular complex attribute's mutability sits on its component,
	// because a $ref cannot carry siblings in OpenAPI 3.0.
	if !pub.Components.Schemas["BadgeUserIssuer"].Value.ReadOnly {
		t.Error("BadgeUserIssuer (readOnly attribute) is not readOnly")
	}
	if !pub.Components.Schemas["Meta"].Value.ReadOnly {
		t.Error("Meta is not readOnly")
	}
	if got := pub.Components.Schemas["TeamMember"].Value.Properties["$ref"].Value.Format; got != "" {
		t.Errorf("TeamMember.$ref format %q, want none", got)
	}

	if got := cg.Components.Schemas["TeamMember"].Value.Extensions["x-go-type"]; got != "resource.TeamMember" {
		t.Errorf("TeamMember x-go-type = %v", got)
	}
	if got := cg.Components.Schemas["BadgeUser"].Value.Extensions["x-go-type"]; got != "resource.BadgeUser" {
		t.Errorf("BadgeUser x-go-type = %v", got)
	}

	errSchema := pub.Components.Schemas["Error"].Value
	if !errSchema.Properties["status"].Value.Type.Is("string") {
		t.Error("Error.status is not a string")
	}
	if got := len(errSchema.Properties["scimType"].Value.Enum); got != 12 {
		t.Errorf("Error.scimType has %d keywords, want the 10 of RFC 7644 Table 9 and RFC 9865's invalidCursor and invalidCount", got)
	}
	if p := pub.Components.Parameters["startIndex"].Value.Schema.Value; p.Min != nil {
		t.Error("startIndex has a minimum; RFC 7644 says values below 1 mean 1")
	}
}

func TestResponses(t *testing.T) {
	pub, _, _, _ := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	codes := func(path, method string) []string {
		op := pub.Paths.Value(path).GetOperation(method)
		var out []string
		for k := range op.Responses.Map() {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		path, method string
		want         []string
	}{
		{"/Teams", "GET", []string{"200", "400", "401", "500", "503"}},
		{"/Teams", "POST", []string{"201", "400", "401", "409", "413", "415", "500", "503"}},
		{"/Teams/{id}", "GET", []string{"200", "304", "400", "401", "404", "500", "503"}},
		{"/Teams/{id}", "PUT", []string{"200", "400", "401", "404", "409", "412", "413", "415", "500", "503"}},
		{"/Teams/{id}", "PATCH", []string{"200", "204", "400", "401", "404", "409", "412", "413", "415", "500", "503"}},
		{"/Teams/{id}", "DELETE", []string{"204", "400", "401", "404", "412", "500", "503"}},
		// Discovery documents are static: no body, no database.
		{"/ServiceProviderConfig", "GET", []string{"200", "400", "401", "500"}},
	} {
		if got := codes(c.path, c.method); !slices.Equal(got, c.want) {
			t.Errorf("%s %s responses %v, want %v", c.method, c.path, got, c.want)
		}
	}
	created := pub.Paths.Value("/Teams").Post.Responses.Status(201).Value
	if created.Headers["Location"] == nil || !created.Headers["Location"].Value.Required || created.Headers["ETag"] == nil {
		t.Error("201 lacks a required Location or an ETag header")
	}
	got := pub.Paths.Value("/Teams/{id}").Get.Responses.Status(200).Value
	if got.Headers["Location"] == nil || got.Headers["ETag"] == nil {
		t.Error("GET 200 lacks Location or ETag")
	}
	// The server sends these headers with these errors (scim/scimerr, scim/engine).
	if h := pub.Components.Responses["Unauthorized"].Value.Headers["WWW-Authenticate"]; h == nil {
		t.Error("401 lacks the WWW-Authenticate header")
	}
	if h := pub.Components.Responses["ServiceUnavailable"].Value.Headers["Retry-After"]; h == nil {
		t.Error("503 lacks the Retry-After header")
	}
	if list := pub.Paths.Value("/Teams").Get; list.OperationID != "listTeams" || len(list.Parameters) != 8 {
		t.Errorf("listTeams: operationId %q, %d parameters", list.OperationID, len(list.Parameters))
	}
	if s := pub.Paths.Value("/Teams/.search"); s == nil || s.Post == nil || s.Post.OperationID != "searchTeams" || s.Post.RequestBody == nil {
		t.Error("no POST /Teams/.search (searchTeams) with a SearchRequest body")
	}
	if s := pub.Paths.Value("/.search"); s == nil || s.Post == nil || s.Post.OperationID != "search" {
		t.Error("no root POST /.search")
	}
}

func TestMarshalLayout(t *testing.T) {
	_, _, pub, _ := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	if !bytes.HasPrefix(pub, []byte(GeneratedHeader+"\nopenapi: 3.0.3\n")) {
		t.Fatalf("the document starts with %q", pub[:min(len(pub), 80)])
	}
	var root yaml.Node
	if err := yaml.Unmarshal(pub, &root); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, n := range root.Content[0].Content {
		if i%2 == 0 {
			keys = append(keys, n.Value)
		}
	}
	if want := []string{"openapi", "info", "servers", "security", "tags", "paths", "components"}; !slices.Equal(keys, want) {
		t.Errorf("top-level keys %v, want %v", keys, want)
	}
}

func TestOptions(t *testing.T) {
	set := load(t, os.DirFS("testdata"), "small")
	for _, c := range []struct {
		name string
		opt  Options
		want string
	}{
		{"no version", Options{GoTypesImport: "x/resource"}, "Version is required"},
		{"no import", Options{Version: "1"}, "GoTypesImport is required"},
		{"bad import", Options{Version: "1", GoTypesImport: "x/my-types"}, "not a Go package name"},
		{"bad meta", Options{Version: "1", GoTypesImport: "x/resource", MetaGoType: "Meta"}, "MetaGoType"},
		{"bad go name", Options{Version: "1", GoTypesImport: "x/resource", GoNames: map[string]string{"User": "user"}}, "not an exported Go identifier"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Build(set, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}

	pub, cg, err := Build(set, Options{Version: "1", GoTypesImport: "x/resource", GoNames: map[string]string{
		"User": "Person", "urn:example:params:scim:schemas:extension:badge:2.0:User": "Badge",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if pub.Info.Title != DefaultTitle {
		t.Errorf("title %q", pub.Info.Title)
	}
	for _, name := range []string{"Person", "PersonEmail", "PersonListResponse", "Badge", "BadgeIssuer"} {
		if pub.Components.Schemas[name] == nil {
			t.Errorf("GoNames: no component %s", name)
		}
	}
	if op := pub.Paths.Value("/Users").Post.OperationID; op != "createUser" {
		t.Errorf("GoNames: operationId %q", op)
	}
	// Without MetaGoType, oapi-codegen generates Meta itself.
	if _, ok := cg.Components.Schemas["Meta"].Value.Extensions["x-go-type"]; ok {
		t.Error("Meta has x-go-type without MetaGoType")
	}
}

func TestNameClash(t *testing.T) {
	fsys := fstest.MapFS{}
	src, err := fs.Sub(os.DirFS("testdata"), "small")
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		// A resource type named Error clashes with the SCIM Error message.
		data = bytes.ReplaceAll(data, []byte(`"name": "Team"`), []byte(`"name": "Error"`))
		// (and references to it follow, as the loader checks referenceTypes)
		data = bytes.ReplaceAll(data, []byte(`"Team"]`), []byte(`"Error"]`))
		fsys[filepath.ToSlash(filepath.Join("s", p))] = &fstest.MapFile{Data: data}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, _, err = Build(load(t, fsys, "s"), testOptions)
	if err == nil || !strings.Contains(err.Error(), `"Error"`) {
		t.Fatalf("err = %v, want a clash on Error", err)
	}
}

// requiredInRequest returns the required-attributes half of the allOf of the
// request body of method path, or nil.
func requiredInRequest(t *testing.T, doc *openapi3.T, path, method string) *openapi3.Schema {
	t.Helper()
	body := doc.Paths.Value(path).GetOperation(method).RequestBody.Value.Content.Get(mediaSCIM).Schema.Value
	if body == nil || len(body.AllOf) != 2 || body.AllOf[0].Ref == "" {
		return nil
	}
	return body.AllOf[1].Value
}

// TestExamples checks that the examples come from the schemas (the fixture's
// own extension attribute is in them), respect the characteristics, are
// attached where a reader looks, and that validation checks them.
func TestExamples(t *testing.T) {
	pub, _, _, _ := buildBoth(t, load(t, os.DirFS("testdata"), "small"))
	ex := func(name string) map[string]any {
		t.Helper()
		e := pub.Components.Examples[name]
		if e == nil || e.Value == nil {
			t.Fatalf("no example %s", name)
		}
		v, ok := e.Value.Value.(map[string]any)
		if !ok {
			t.Fatalf("example %s is %T", name, e.Value.Value)
		}
		return v
	}
	const badge = "urn:example:params:scim:schemas:extension:badge:2.0:User"
	req := ex("UserRequest")
	if b, _ := req[badge].(map[string]any); b["number"] == nil {
		t.Errorf("UserRequest has no %s number: %v", badge, req[badge])
	}
	if b, _ := req[badge].(map[string]any); b["issuer"] != nil {
		t.Error("UserRequest carries the readOnly badge issuer")
	}
	for _, k := range []string{"id", "meta", "loginCount", "teams"} {
		if _, ok := req[k]; ok {
			t.Errorf("UserRequest carries readOnly %s", k)
		}
	}
	if req["password"] == nil || req["userName"] == nil {
		t.Errorf("UserRequest lacks password or userName: %v", req)
	}
	res := ex("User")
	for _, k := range []string{"password", "recoveryCode", "quota"} {
		if _, ok := res[k]; ok {
			t.Errorf("the User response example carries %s (writeOnly, returned never or request)", k)
		}
	}
	if res["id"] == nil || res["meta"] == nil {
		t.Error("the User response example has no id or meta")
	}
	if list := ex("UserList"); len(list["Resources"].([]any)) != 1 {
		t.Errorf("UserList: %v", list)
	}
	if ops := ex("UserPatchEntraID")["Operations"].([]any); len(ops) == 0 {
		t.Error("UserPatchEntraID has no operations")
	}
	add := ex("TeamPatchAddMembers")["Operations"].([]any)[0].(map[string]any)
	if member := add["value"].([]any)[0].(map[string]any)["value"]; member != ex("User")["id"] {
		t.Errorf("TeamPatchAddMembers adds %v, want the example User's id %v", member, ex("User")["id"])
	}
	for _, name := range []string{"BadRequest", "Conflict", "NotFound", "Unauthorized"} {
		if e := ex("Error" + name); e["status"] == nil || e["schemas"] == nil {
			t.Errorf("Error%s: %v", name, e)
		}
	}
	attached := func(c openapi3.Content, want string) {
		t.Helper()
		for mt, m := range c {
			if m.Examples[want] == nil || m.Examples[want].Ref != "#/components/examples/"+want {
				t.Errorf("%s has examples %v, want %s", mt, m.Examples, want)
			}
		}
	}
	attached(pub.Paths.Value("/Users").Post.RequestBody.Value.Content, "UserRequest")
	attached(pub.Paths.Value("/Users").Post.Responses.Status(201).Value.Content, "User")
	attached(pub.Paths.Value("/Users").Get.Responses.Status(200).Value.Content, "UserList")
	attached(pub.Paths.Value("/Users/{id}").Patch.RequestBody.Value.Content, "UserPatchEntraID")
	attached(pub.Components.Responses["Conflict"].Value.Content, "ErrorConflict")

	// Validation checks examples against their schemas, as requests or
	// responses: a wrong type, a missing required attribute and a readOnly
	// attribute in a request each make the document invalid.
	for _, c := range []struct {
		name   string
		change func(map[string]any)
	}{
		{"wrong type", func(v map[string]any) { v["userName"] = 5 }},
		{"missing required", func(v map[string]any) { delete(v, "userName") }},
		{"readOnly in a request", func(v map[string]any) { v["id"] = "x" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, _, err := Build(load(t, os.DirFS("testdata"), "small"), testOptions)
			if err != nil {
				t.Fatal(err)
			}
			c.change(doc.Components.Examples["UserRequest"].Value.Value.(map[string]any))
			if err := doc.Validate(context.Background()); err == nil {
				t.Error("the document validates with a broken example")
			}
		})
	}
}

// TestSecurity checks that the security schemes are those the
// ServiceProviderConfig announces, or those the options name.
func TestSecurity(t *testing.T) {
	withSPC := func(t *testing.T, schemes string) *schema.Set {
		t.Helper()
		fsys := fstest.MapFS{}
		src, _ := fs.Sub(os.DirFS("testdata"), "small")
		fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, _ := fs.ReadFile(src, p)
			if p == "ServiceProviderConfig.json" {
				data = bytes.Replace(data, []byte(`"authenticationSchemes": []`), []byte(`"authenticationSchemes": `+schemes), 1)
			}
			fsys["s/"+p] = &fstest.MapFile{Data: data}
			return nil
		})
		return load(t, fsys, "s")
	}
	names := func(doc *openapi3.T) []string {
		var out []string
		for _, r := range doc.Security {
			for k := range r {
				out = append(out, k)
			}
		}
		return out
	}
	pub, _, err := Build(withSPC(t, `[]`), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(pub); !slices.Equal(got, []string{"bearerAuth"}) {
		t.Errorf("no authenticationSchemes: security %v, want bearerAuth (what the server always accepts)", got)
	}
	pub, _, err = Build(withSPC(t, `[{"type":"httpbasic","name":"HTTP Basic","description":"d"},{"type":"oauthbearertoken","name":"OAuth Bearer Token","description":"d","primary":true}]`), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(pub); !slices.Equal(got, []string{"bearerAuth", "basicAuth"}) {
		t.Errorf("security %v, want the primary bearerAuth, then basicAuth", got)
	}
	if s := pub.Components.SecuritySchemes["basicAuth"].Value; s.Type != "http" || s.Scheme != "basic" {
		t.Errorf("basicAuth = %+v", s)
	}
	if d := pub.Components.Responses["Unauthorized"].Value.Headers["WWW-Authenticate"].Value.Description; !strings.Contains(d, "Bearer, Basic") {
		t.Errorf("WWW-Authenticate: %q", d)
	}
	if _, _, err := Build(withSPC(t, `[{"type":"oauth2","name":"OAuth 2","description":"d"}]`), testOptions); err == nil || !strings.Contains(err.Error(), "openapi.securitySchemes") {
		t.Errorf("oauth2 without a description in the options: err = %v, want one pointing at openapi.securitySchemes", err)
	}
	opt := testOptions
	opt.SecuritySchemes = openapi3.SecuritySchemes{"oauth": {Value: &openapi3.SecurityScheme{Type: "oauth2", Flows: &openapi3.OAuthFlows{
		ClientCredentials: &openapi3.OAuthFlow{TokenURL: "https://login.example.org/token", Scopes: map[string]string{}},
	}}}}
	pub, _, err = Build(withSPC(t, `[{"type":"oauth2","name":"OAuth 2","description":"d"}]`), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(pub); !slices.Equal(got, []string{"oauth"}) {
		t.Errorf("security %v, want the options' oauth", got)
	}
}
