package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Contract tests: every request below is sent to the real server, and both
// the request and the response are validated against the published
// openapi.yaml. A failure means the document and the server disagree.

var registerSCIMDecoder sync.Once

// contract is the published document bound to one running server.
type contract struct {
	s      *server
	doc    *openapi3.T
	router routers.Router
	// strict is the same document with additionalProperties: false on
	// every component object schema: a response property the document
	// does not declare is a mismatch too.
	strict routers.Router
}

// loadContract loads ../openapi.yaml, validates it, and builds a router whose
// only server is the test server's base URL (the document's server is the
// relative /scim/v2).
func loadContract(t *testing.T, s *server) *contract {
	t.Helper()
	registerSCIMDecoder.Do(func() {
		openapi3filter.RegisterBodyDecoder(scimMedia, openapi3filter.JSONBodyDecoder)
	})
	load := func(strict bool) (*openapi3.T, routers.Router) {
		t.Helper()
		ctx := context.Background()
		doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
		if err != nil {
			t.Fatalf("loading ../openapi.yaml: %v", err)
		}
		if err := doc.Validate(ctx); err != nil {
			t.Fatalf("../openapi.yaml is not a valid OpenAPI document: %v", err)
		}
		// The document's servers come from schemas/codegen.yaml (relative
		// or absolute, possibly with {variables}); the routes are the
		// server's as long as one of them ends in the base path.
		var found bool
		for _, sv := range doc.Servers {
			if strings.HasSuffix(sv.URL, "/scim/v2") {
				found = true
			}
		}
		if !found {
			t.Fatalf("../openapi.yaml: no server ending in /scim/v2 in %v", doc.Servers)
		}
		doc.Servers = openapi3.Servers{{URL: s.base}}
		if strict {
			no := false
			for _, sr := range doc.Components.Schemas {
				if v := sr.Value; v != nil && v.Type.Is(openapi3.TypeObject) && len(v.Properties) > 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
					v.AdditionalProperties.Has = &no
				}
			}
			if err := doc.Validate(ctx); err != nil {
				t.Fatalf("the strict copy of ../openapi.yaml is invalid: %v", err)
			}
		}
		router, err := legacy.NewRouter(doc)
		if err != nil {
			t.Fatalf("building the router: %v", err)
		}
		return doc, router
	}
	doc, router := load(false)
	_, strict := load(true)
	return &contract{s: s, doc: doc, router: router, strict: strict}
}

// options are the validation options for both directions. readOnly
// attributes (id, meta, groups) are legal in SCIM request bodies: the server
// ignores them (RFC 7644 §3.3).
func contractOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:                 true,
		IncludeResponseStatus:      true,
		ExcludeReadOnlyValidations: true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecuritySchemeName != "bearerAuth" || in.SecurityScheme == nil ||
				in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
				return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
			}
			h := in.RequestValidationInput.Request.Header.Get("Authorization")
			scheme, cred, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
				return errors.New("no bearer token in the Authorization header")
			}
			return nil
		},
	}
}

// exchange describes one request of the contract test.
type exchange struct {
	method, target string // target is relative to the SCIM base URL, query encoded
	body           any    // as for server.doURL
	hdrs           []string
	status         int  // the status the server must answer
	badRequest     bool // the request itself breaks the document (bad JSON, no token)
}

// send validates the request against the document, sends it, checks the
// status and validates the response (status declared, headers, body).
func (c *contract) send(t *testing.T, x exchange) *response {
	t.Helper()
	var raw []byte
	x.body = withRequired(t, x.method, x.target, x.body)
	switch b := x.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		raw = j
	}

	// The same request server.doURL sends, for the validator.
	req, err := http.NewRequest(x.method, c.s.base+x.target, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", scimMedia)
	if x.body != nil {
		req.Header.Set("Content-Type", scimMedia)
	}
	for i := 0; i+1 < len(x.hdrs); i += 2 {
		if x.hdrs[i+1] == "" {
			req.Header.Del(x.hdrs[i])
		} else {
			req.Header.Set(x.hdrs[i], x.hdrs[i+1])
		}
	}
	if x.body == nil {
		req.Body = http.NoBody
	}

	desc := x.method + " " + x.target
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: no operation in openapi.yaml matches the request: %v", desc, err)
	}
	opts := contractOptions()
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      route,
		Options:    opts,
	}
	ctx := context.Background()
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case x.badRequest && reqErr == nil:
		t.Errorf("%s: the document accepts this request, which the test sends as invalid", desc)
	case !x.badRequest && reqErr != nil:
		t.Errorf("%s: the request does not conform to openapi.yaml (%s):\n%v", desc, route.Operation.OperationID, reqErr)
	}

	var body any
	if x.body != nil {
		body = raw
	}
	r := c.s.do(t, x.method, x.target, body, x.hdrs...)
	if x.status != 0 && r.Status != x.status {
		t.Errorf("%s: status %d, want %d; body: %s", desc, r.Status, x.status, r.Body)
	}
	sroute, spath, err := c.strict.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: no operation in the strict document matches the request: %v", desc, err)
	}
	sin := &openapi3filter.RequestValidationInput{Request: req, PathParams: spath, Route: sroute, Options: opts}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: sin,
		Status:                 r.Status,
		Header:                 r.Header,
		Options:                opts,
	}
	out.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s: the %d response does not conform to openapi.yaml (operation %s):\n%v\nresponse headers: %v\nresponse body: %s",
			desc, r.Status, route.Operation.OperationID, err, r.Header, r.Body)
	} else {
		t.Logf("%s -> %d conforms (%s)", desc, r.Status, route.Operation.OperationID)
	}
	return r
}

// TestContract sends representative requests to the server and validates
// every request and response against the published openapi.yaml.
func TestContract(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", basicUser...)
	c := loadContract(t, s)
	// The app's schema decides what a full user has; the requests below
	// use the enterprise and Acme extensions only where the app has them.
	ent := s.has(t, "User", enterpriseURN+":employeeNumber") && s.has(t, "User", enterpriseURN+":manager")
	acme := s.has(t, "User", acmeURN+":clearanceLevel") && s.has(t, "User", acmeURN+":projects.role")
	// joined is the attribute paths that are not "" joined by commas.
	joined := func(paths ...string) string {
		return strings.Join(slices.DeleteFunc(paths, func(p string) bool { return p == "" }), ",")
	}
	entPath := func(p string) string {
		if ent {
			return enterpriseURN + ":" + p
		}
		return ""
	}
	acmePath := func(p string) string {
		if acme {
			return acmeURN + p
		}
		return ""
	}

	// Users.
	mgr := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: newUser("contract.manager@example.com"), status: http.StatusCreated})
	mgrID := str(mgr.JSON, "id")

	full := newUser("contract.user@example.com")
	full["schemas"] = arr{userURN, enterpriseURN, acmeURN}
	full["externalId"] = "ext-contract-1"
	full["displayName"] = "Contract User"
	full["nickName"] = "cu"
	full["title"] = "Engineer"
	full["userType"] = "Employee"
	full["preferredLanguage"] = "en-US"
	full["locale"] = "en-US"
	full["timezone"] = "Europe/Berlin"
	full["password"] = "s3cret-Passw0rd!"
	full["name"] = obj{"formatted": "Ms. Contract User", "familyName": "User", "givenName": "Contract", "middleName": "C", "honorificPrefix": "Ms.", "honorificSuffix": "III"}
	full["phoneNumbers"] = arr{obj{"value": "+1-555-0100", "type": "work", "primary": true}}
	full["addresses"] = arr{obj{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield", "region": "IL", "postalCode": "62701", "country": "US", "formatted": "1 Main St\nSpringfield, IL 62701 US", "primary": true}}
	full["ims"] = arr{obj{"value": "contract.user", "type": "xmpp"}}
	full["photos"] = arr{obj{"value": "https://photos.example.com/profile/contract.jpg", "type": "photo"}}
	full["entitlements"] = arr{obj{"value": "full-access"}}
	full["roles"] = arr{obj{"value": "admin", "primary": true}}
	full["x509Certificates"] = arr{obj{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}}
	full["id"] = "client-chosen-id" // readOnly: ignored by the server (and legal to send)
	full["meta"] = obj{"resourceType": "User"}
	full[enterpriseURN] = obj{
		"employeeNumber": "E-1001",
		"costCenter":     "4130",
		"organization":   "Universal Studios",
		"division":       "Theme Park",
		"department":     "Tour Operations",
		"manager":        obj{"value": mgrID},
	}
	full[acmeURN] = obj{
		"badgeNumber":    "AC-2001",
		"clearanceLevel": 3,
		"remoteWorker":   true,
		"hireDate":       "2024-03-01T09:00:00Z",
		"fte":            0.75,
		"tags":           arr{"oncall", "mentor"},
		"projects": arr{
			obj{"name": "Rocket Skates", "role": "lead", "startDate": "2024-04-01T00:00:00Z", "primary": true},
			obj{"name": "Giant Magnet", "role": "member"},
		},
	}
	// Every attribute the app's User has, no other.
	for k := range full {
		if k != "schemas" && k != "id" && k != "meta" && !s.has(t, "User", k) {
			t.Logf("the app's User has no %s: the full user goes without it", k)
			delete(full, k)
		}
	}
	full["schemas"] = arr{userURN}
	for _, urn := range []string{enterpriseURN, acmeURN} {
		if has(full, urn) {
			full["schemas"] = append(full["schemas"].(arr), urn)
		}
	}
	var userID string
	t.Run("create user with extensions", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: full, status: http.StatusCreated})
		userID = str(r.JSON, "id")
		if userID == "" || userID == "client-chosen-id" {
			t.Fatalf("POST /Users: id %q, want a server-assigned id", userID)
		}
	})
	if userID == "" {
		t.FailNow()
	}

	t.Run("get user", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID, status: http.StatusOK})
	})
	t.Run("get user attributes and excludedAttributes", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("attributes", joined("userName", "emails.value", entPath("employeeNumber"))), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("excludedAttributes", joined("emails", "groups", acmePath(""))), status: http.StatusOK})
	})
	t.Run("list users", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Users", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?startIndex=1&count=2", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?count=0", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + qs("sortBy", "userName", "sortOrder", "descending"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?startIndex=100&count=5", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?startIndex=-3&count=-1", status: http.StatusOK})
	})
	t.Run("list users with filter", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodGet, target: "/Users?" + filterQ(`userName eq "CONTRACT.USER@example.com"`), status: http.StatusOK})
		if n, _ := intOf(r.JSON["totalResults"]); n != 1 {
			t.Errorf("%s: totalResults %v, want 1", r.desc, r.JSON["totalResults"])
		}
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + filterQ(`userName eq "2d6c4fb2-65a8-4b8e-9c1a-5f3b3a0d91e7"`), status: http.StatusOK})
		if acme {
			c.send(t, exchange{method: http.MethodGet, target: "/Users?" + filterQ(`emails[type eq "work"].value co "@example.com" and `+acmeURN+`:clearanceLevel ge 2`), status: http.StatusOK})
		}
	})
	t.Run("list users with attributes=userName", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + qs("attributes", "userName"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + filterQ(`userName sw "contract"`, "attributes", "userName"), status: http.StatusOK})
	})
	t.Run("attributes that leave out required attributes", func(t *testing.T) {
		// RFC 7644 §3.4.2.5: only the requested attributes and those
		// returned "always" come back, so a required but returned
		// "default" attribute (userName, displayName) may be absent.
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + qs("attributes", "displayName"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("attributes", "emails"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("excludedAttributes", "userName"), status: http.StatusOK})
		if ent {
			c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("attributes", enterpriseURN+":employeeNumber"), status: http.StatusOK})
		}
		// Sub-attributes: emails without value, projects without name,
		// name without givenName.
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("attributes", joined("emails.type", "name.familyName", acmePath(":projects.role"))), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + qs("attributes", joined("emails.type", "name.familyName", acmePath(":projects.role"))), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?" + qs("excludedAttributes", "emails.value,name.givenName"), status: http.StatusOK})
	})
	t.Run("replace user", func(t *testing.T) {
		put := newUser("contract.user@example.com")
		put["id"] = userID
		put["displayName"] = "Contract User (replaced)"
		put["active"] = false
		if ent {
			put["schemas"] = arr{userURN, enterpriseURN}
			put[enterpriseURN] = obj{"employeeNumber": "E-1001", "manager": obj{"value": mgrID}}
		}
		c.send(t, exchange{method: http.MethodPut, target: "/Users/" + userID, body: put, status: http.StatusOK})
	})

	// Groups.
	var groupID string
	t.Run("create group with members", func(t *testing.T) {
		g := obj{
			"schemas":     arr{groupURN},
			"displayName": "Contract Group",
			"externalId":  "grp-contract-1",
			"members":     arr{obj{"value": userID}, obj{"value": mgrID, "type": "User"}},
		}
		r := c.send(t, exchange{method: http.MethodPost, target: "/Groups", body: g, status: http.StatusCreated})
		groupID = str(r.JSON, "id")
	})
	if groupID == "" {
		t.Fatalf("no group was created")
	}
	t.Run("get group", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Groups/" + groupID, status: http.StatusOK})
	})
	t.Run("get group excludedAttributes=members", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Groups/" + groupID + "?excludedAttributes=members", status: http.StatusOK})
	})
	t.Run("group attributes that leave out displayName", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Groups/" + groupID + "?" + qs("attributes", "members"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Groups?" + qs("attributes", "externalId"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Groups/" + groupID + "?" + qs("attributes", "members.display"), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID + "?" + qs("attributes", "groups"), status: http.StatusOK})
	})
	t.Run("list groups", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/Groups?" + filterQ(`displayName eq "Contract Group"`), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Groups?" + qs("excludedAttributes", "members"), status: http.StatusOK})
	})
	t.Run("get user with groups", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID, status: http.StatusOK})
		if len(at(r.JSON, "groups").([]any)) == 0 {
			t.Errorf("%s: no groups after the group was created: %s", r.desc, r.Body)
		}
	})
	t.Run("replace group", func(t *testing.T) {
		g := obj{"schemas": arr{groupURN}, "displayName": "Contract Group", "members": arr{obj{"value": mgrID}}}
		c.send(t, exchange{method: http.MethodPut, target: "/Groups/" + groupID, body: g, status: http.StatusOK})
	})

	// PATCH in the clients' shapes, preconditions and conditional GET.
	t.Run("patch", func(t *testing.T) {
		opsList := []arr{
			{obj{"op": "Replace", "path": "active", "value": "False"}},
			{obj{"op": "replace", "value": obj{"active": true}}},
			{obj{"op": "replace", "path": `emails[type eq "work"].value`, "value": "contract.work@example.com"},
				obj{"op": "replace", "value": obj{"name.givenName": "C"}}},
		}
		if ent {
			opsList = append(opsList,
				arr{obj{"op": "replace", "value": obj{"name.givenName": "C", enterpriseURN + ":employeeNumber": "E-2"}}},
				arr{obj{"op": "add", "path": enterpriseURN + ":manager", "value": mgrID}},
				arr{obj{"op": "remove", "path": `manager[value eq "` + mgrID + `"]`}})
		}
		for _, ops := range opsList {
			c.send(t, exchange{method: http.MethodPatch, target: "/Users/" + userID, body: obj{"schemas": arr{patchURN}, "Operations": ops}, status: http.StatusNoContent})
		}
		r := c.send(t, exchange{method: http.MethodPatch, target: "/Users/" + userID + "?excludedAttributes=groups",
			body: obj{"schemas": arr{patchURN}, "Operations": arr{obj{"op": "add", "path": "title", "value": "Contractor"}}}, status: http.StatusOK})
		etag := r.Header.Get("ETag")
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID, hdrs: []string{"If-None-Match", etag}, status: http.StatusNotModified})
		c.send(t, exchange{method: http.MethodPatch, target: "/Users/" + userID, hdrs: []string{"If-Match", `W/"1"`},
			body: obj{"schemas": arr{patchURN}, "Operations": arr{obj{"op": "remove", "path": "title"}}}, status: http.StatusPreconditionFailed})
		c.send(t, exchange{method: http.MethodPatch, target: "/Users/" + userID,
			body: obj{"schemas": arr{patchURN}, "Operations": arr{obj{"op": "remove", "path": "nope"}}}, status: http.StatusBadRequest})
		c.send(t, exchange{method: http.MethodPatch, target: "/Groups/" + groupID, body: obj{"schemas": arr{patchURN}, "Operations": arr{
			obj{"op": "remove", "path": `members[value eq "` + mgrID + `"]`},
			obj{"op": "Add", "path": "members", "value": arr{obj{"$ref": nil, "value": mgrID}}},
			obj{"op": "replace", "value": obj{"id": groupID, "displayName": "Contract Group"}},
		}}, status: http.StatusNoContent})
	})

	// Discovery.
	t.Run("discovery", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodGet, target: "/ServiceProviderConfig", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/ResourceTypes", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/ResourceTypes/User", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/ResourceTypes/Group", status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Schemas", status: http.StatusOK})
		for _, sc := range s.do(t, http.MethodGet, "/Schemas", nil).list(t).Resources {
			c.send(t, exchange{method: http.MethodGet, target: "/Schemas/" + url.PathEscape(str(sc, "id")), status: http.StatusOK})
		}
	})

	// Errors: every one must be a declared status with an Error body.
	t.Run("400 bad JSON", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: `{"schemas":["` + userURN + `"],"userName":`, status: http.StatusBadRequest, badRequest: true})
		r.wantError(t, http.StatusBadRequest, "invalidSyntax")
	})
	t.Run("400 bad JSON on PUT", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodPut, target: "/Users/" + userID, body: `{"userName": [}`, status: http.StatusBadRequest, badRequest: true})
		r.wantError(t, http.StatusBadRequest, "invalidSyntax")
	})
	t.Run("400 invalidFilter", func(t *testing.T) {
		for _, f := range []string{`userName eq`, `nosuchattr eq "x"`, `userName xx "x"`} {
			r := c.send(t, exchange{method: http.MethodGet, target: "/Users?" + filterQ(f), status: http.StatusBadRequest})
			r.wantError(t, http.StatusBadRequest, "invalidFilter")
		}
		r := c.send(t, exchange{method: http.MethodGet, target: "/Groups?" + filterQ(`displayName eq`), status: http.StatusBadRequest})
		r.wantError(t, http.StatusBadRequest, "invalidFilter")
	})
	t.Run("400 invalidValue", func(t *testing.T) {
		b := newUser("contract.bad@example.com")
		b["active"] = "maybe" // not a boolean, even by Entra's lenient reading
		r := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: b, status: http.StatusBadRequest, badRequest: true})
		r.wantError(t, http.StatusBadRequest, "invalidValue")
		b = obj{"schemas": arr{userURN}} // no userName
		r = c.send(t, exchange{method: http.MethodPost, target: "/Users", body: b, status: http.StatusBadRequest, badRequest: true})
		r.wantError(t, http.StatusBadRequest)
	})
	t.Run("401", func(t *testing.T) {
		for _, x := range []exchange{
			{method: http.MethodGet, target: "/Users", hdrs: []string{"Authorization", ""}},
			{method: http.MethodGet, target: "/Users/" + userID, hdrs: []string{"Authorization", "Bearer wrong-token-0123456789abcdef"}},
			{method: http.MethodPost, target: "/Users", body: newUser("contract.unauth@example.com"), hdrs: []string{"Authorization", ""}},
			{method: http.MethodGet, target: "/ServiceProviderConfig", hdrs: []string{"Authorization", ""}},
			{method: http.MethodGet, target: "/Schemas", hdrs: []string{"Authorization", ""}},
		} {
			x.status = http.StatusUnauthorized
			// A missing token breaks the document's security
			// requirement; a wrong one is a well-formed request.
			x.badRequest = x.hdrs[1] == ""
			r := c.send(t, x)
			r.wantError(t, http.StatusUnauthorized)
		}
	})
	t.Run("404", func(t *testing.T) {
		for _, target := range []string{
			"/Users/00000000-0000-0000-0000-000000000000",
			"/Groups/00000000-0000-0000-0000-000000000000",
			"/Schemas/urn:example:no-such-schema",
			"/ResourceTypes/NoSuchType",
		} {
			r := c.send(t, exchange{method: http.MethodGet, target: target, status: http.StatusNotFound})
			r.wantError(t, http.StatusNotFound)
		}
		put := newUser("contract.ghost@example.com")
		r := c.send(t, exchange{method: http.MethodPut, target: "/Users/00000000-0000-0000-0000-000000000000", body: put, status: http.StatusNotFound})
		r.wantError(t, http.StatusNotFound)
		r = c.send(t, exchange{method: http.MethodDelete, target: "/Users/00000000-0000-0000-0000-000000000000", status: http.StatusNotFound})
		r.wantError(t, http.StatusNotFound)
	})
	t.Run("409", func(t *testing.T) {
		dup := newUser("CONTRACT.USER@example.com")
		r := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: dup, status: http.StatusConflict})
		r.wantError(t, http.StatusConflict, "uniqueness")
		other := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: newUser("contract.other@example.com"), status: http.StatusCreated})
		if id := str(other.JSON, "id"); id != "" {
			put := newUser("contract.manager@example.com") // the manager's userName
			r = c.send(t, exchange{method: http.MethodPut, target: "/Users/" + id, body: put, status: http.StatusConflict})
			r.wantError(t, http.StatusConflict, "uniqueness")
		}
		r = c.send(t, exchange{method: http.MethodPost, target: "/Groups", body: obj{"schemas": arr{groupURN}, "displayName": "Contract Group"}, status: 0})
		if r.Status != http.StatusCreated && r.Status != http.StatusConflict {
			t.Errorf("%s: status %d, want 201 or 409", r.desc, r.Status)
		}
	})

	t.Run("400 malformed query parameters", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodGet, target: "/Users?startIndex=abc", status: http.StatusBadRequest, badRequest: true})
		r.wantError(t, http.StatusBadRequest)
		// The words come from web.paramError, which reads oapi-codegen's
		// error text: this catches a generator upgrade that changes it.
		if d, _ := r.JSON["detail"].(string); d != `the startIndex parameter must be a whole number; got "abc"` {
			t.Errorf("detail %q: want the parameter named in words, no Go internals", d)
		}
	})
	t.Run("413 body too large", func(t *testing.T) {
		big := newUser("contract.big@example.com")
		big["displayName"] = strings.Repeat("x", 2<<20)
		r := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: big, status: http.StatusRequestEntityTooLarge})
		r.wantError(t, http.StatusRequestEntityTooLarge)
		r = c.send(t, exchange{method: http.MethodPut, target: "/Users/" + userID, body: big, status: http.StatusRequestEntityTooLarge})
		r.wantError(t, http.StatusRequestEntityTooLarge)
	})
	t.Run("415 unsupported Content-Type", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodPost, target: "/Users", body: newUser("contract.text@example.com"),
			hdrs: []string{"Content-Type", "text/plain"}, status: http.StatusUnsupportedMediaType, badRequest: true})
		r.wantError(t, http.StatusUnsupportedMediaType)
		r = c.send(t, exchange{method: http.MethodPut, target: "/Groups/" + groupID, body: obj{"schemas": arr{groupURN}, "displayName": "x"},
			hdrs: []string{"Content-Type", "application/xml"}, status: http.StatusUnsupportedMediaType, badRequest: true})
		r.wantError(t, http.StatusUnsupportedMediaType)
	})
	t.Run("application/json request body", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodPost, target: "/Users", body: newUser("contract.json@example.com"),
			hdrs: []string{"Content-Type", "application/json"}, status: http.StatusCreated})
	})

	t.Run("references to resources that do not exist", func(t *testing.T) {
		ghost := "00000000-0000-0000-0000-00000000dead"
		g := obj{"schemas": arr{groupURN}, "displayName": "Ghost Group", "members": arr{obj{"value": ghost}}}
		r := c.send(t, exchange{method: http.MethodPost, target: "/Groups", body: g})
		if r.Status != http.StatusCreated && r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 201 or 400", r.desc, r.Status)
		}
		g["displayName"] = "Contract Group"
		r = c.send(t, exchange{method: http.MethodPut, target: "/Groups/" + groupID, body: g})
		if r.Status != http.StatusOK && r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 200 or 400", r.desc, r.Status)
		}
		if ent {
			u := newUser("contract.ghostmgr@example.com")
			u[enterpriseURN] = obj{"manager": obj{"value": ghost}}
			r = c.send(t, exchange{method: http.MethodPost, target: "/Users", body: u})
			if r.Status != http.StatusCreated && r.Status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 201 or 400", r.desc, r.Status)
			}
		}
	})
	t.Run("bulk", func(t *testing.T) {
		body := bulkBody(0,
			obj{"method": "POST", "path": "/Groups", "bulkId": "cg", "data": obj{"schemas": arr{groupURN}, "displayName": "Contract Bulk Group", "members": arr{obj{"value": "bulkId:cu"}}}},
			obj{"method": "POST", "path": "/Users", "bulkId": "cu", "data": newUser("contract.bulk@example.com")},
			obj{"method": "PATCH", "path": "/Users/bulkId:cu", "version": `W/"1"`, "data": obj{"schemas": arr{patchOpURN}, "Operations": arr{obj{"op": "replace", "path": "active", "value": false}}}},
			obj{"method": "PUT", "path": "/Users/" + userID, "version": `W/"1"`, "data": newUser("contract.user@example.com")},
			obj{"method": "DELETE", "path": "/Groups/bulkId:cg"},
			obj{"method": "POST", "path": "/Users", "bulkId": "dupe", "data": newUser("contract.user@example.com")},
		)
		r := c.send(t, exchange{method: http.MethodPost, target: "/Bulk", body: body, status: http.StatusOK})
		want := []string{"POST cg 201", "POST cu 201", "PATCH 204", "PUT 412", "DELETE 204", "POST dupe 409"}
		if got := opStatuses(bulkOps(t, r)); !slices.Equal(got, want) {
			t.Errorf("%s: results %q, want %q", r.desc, got, want)
		}
		r = c.send(t, exchange{method: http.MethodPost, target: "/Bulk", body: `{"schemas":["` + bulkRequestURN + `"],"Operations":[`, status: http.StatusBadRequest, badRequest: true})
		r.wantError(t, http.StatusBadRequest, "invalidSyntax")
		var many []obj
		for range 1001 {
			many = append(many, obj{"method": "DELETE", "path": "/Users/none"})
		}
		// Over maxOperations: the document's maxItems says so too.
		r = c.send(t, exchange{method: http.MethodPost, target: "/Bulk", body: bulkBody(0, many...), status: http.StatusRequestEntityTooLarge, badRequest: true})
		r.wantError(t, http.StatusRequestEntityTooLarge)
	})
	t.Run("bad attribute paths and sortBy", func(t *testing.T) {
		for _, target := range []string{
			"/Users?" + qs("attributes", "nosuch"),
			"/Users?" + qs("excludedAttributes", "emails[type"),
			"/Users?" + qs("sortBy", "nosuch"),
			"/Users/" + userID + "?" + qs("attributes", "name..x"),
			"/Groups?" + filterQ(`members.value eq "`+mgrID+`"`),
			"/Users?count=100000",
		} {
			r := c.send(t, exchange{method: http.MethodGet, target: target})
			if r.Status != http.StatusOK && r.Status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 200 or 400", r.desc, r.Status)
			}
		}
	})
	t.Run("immutable and mutability errors", func(t *testing.T) {
		put := newUser("contract.user@example.com")
		put["id"] = "another-id"
		put["schemas"] = arr{userURN}
		r := c.send(t, exchange{method: http.MethodPut, target: "/Users/" + userID, body: put})
		if r.Status != http.StatusOK && r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 200 or 400", r.desc, r.Status)
		}
	})

	// Deletes last.
	t.Run("delete", func(t *testing.T) {
		c.send(t, exchange{method: http.MethodDelete, target: "/Groups/" + groupID, status: http.StatusNoContent})
		c.send(t, exchange{method: http.MethodDelete, target: "/Users/" + userID, status: http.StatusNoContent})
		c.send(t, exchange{method: http.MethodGet, target: "/Users/" + userID, status: http.StatusNotFound})
	})
}
