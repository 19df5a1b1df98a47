package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/client"
)

// TestGeneratedClient drives the real handler (a temporary SQLite database)
// with the client oapi-codegen generates from the published openapi.yaml
// (generated/client), as a partner would: a user is created, read, found by
// a filter, patched and deleted, and a group gains and loses a member. It
// uses only core User and Group attributes (RFC 7643 §4), so it holds
// whatever extensions schemas/ has. A document whose types, parameters or
// responses disagree with the server fails here: the client would not
// compile, send what the server refuses, or fail to decode the answer.
func TestGeneratedClient(t *testing.T) {
	const token = "client-test-token-0123456789"
	h, _ := tenantHandler(t, &config.Config{Token: token})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.NewClientWithResponses(srv.URL+config.BasePath, client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const userURN = "urn:ietf:params:scim:schemas:core:2.0:User"

	created, err := c.CreateUserWithApplicationScimPlusJSONBodyWithResponse(ctx, client.UserRequest{
		Schemas:     []string{userURN},
		UserName:    "bjensen@example.com",
		DisplayName: ptrTo("Babs Jensen"),
		Name:        &client.UserName{GivenName: ptrTo("Barbara"), FamilyName: ptrTo("Jensen")},
		Emails:      &[]client.UserEmail{{Value: ptrTo("bjensen@example.com"), Type: ptrTo("work"), Primary: ptrTo(true)}},
		Active:      ptrTo(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	u := created.ApplicationScimJSON201
	if created.StatusCode() != http.StatusCreated || u == nil || u.ID == nil {
		t.Fatalf("create: %d %s", created.StatusCode(), created.Body)
	}
	id := *u.ID
	if loc := created.HTTPResponse.Header.Get("Location"); !strings.HasSuffix(loc, "/Users/"+id) {
		t.Errorf("create: Location %q", loc)
	}
	if u.Meta == nil || u.Meta.Created == nil || u.Meta.Version == nil || !slices.Contains(u.Schemas, userURN) {
		t.Errorf("create: meta %+v schemas %v", u.Meta, u.Schemas)
	}

	got, err := c.GetUserWithResponse(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := got.ApplicationScimJSON200; got.StatusCode() != http.StatusOK || g == nil || derefZero(g.UserName) != "bjensen@example.com" ||
		g.Name == nil || derefZero(g.Name.FamilyName) != "Jensen" || !derefZero(g.Active) {
		t.Fatalf("get: %d %s", got.StatusCode(), got.Body)
	}
	if got.HTTPResponse.Header.Get("ETag") == "" {
		t.Error("get: no ETag")
	}

	// The filter is case-insensitive on userName (caseExact false).
	list, err := c.ListUsersWithResponse(ctx, &client.ListUsersParams{Filter: ptrTo(`userName eq "BJENSEN@example.com"`)})
	if err != nil {
		t.Fatal(err)
	}
	if l := list.ApplicationScimJSON200; list.StatusCode() != http.StatusOK || l == nil || derefZero(l.TotalResults) != 1 ||
		l.Resources == nil || len(*l.Resources) != 1 || derefZero((*l.Resources)[0].ID) != id {
		t.Fatalf("list: %d %s", list.StatusCode(), list.Body)
	}
	none, err := c.ListUsersWithResponse(ctx, &client.ListUsersParams{Filter: ptrTo(`userName eq "nobody@example.com"`)})
	if err != nil {
		t.Fatal(err)
	}
	if l := none.ApplicationScimJSON200; l == nil || derefZero(l.TotalResults) != 0 {
		t.Fatalf("list with no match: %d %s", none.StatusCode(), none.Body)
	}

	// Entra ID's deactivation ("False" as a string) and a value-path replace.
	patched, err := c.PatchUserWithApplicationScimPlusJSONBodyWithResponse(ctx, id, nil, client.PatchOp{
		Schemas: &[]string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		Operations: []client.PatchOperation{
			{Op: "Replace", Path: ptrTo("active"), Value: patchValue(t, "False")},
			{Op: "replace", Path: ptrTo(`emails[type eq "work"].value`), Value: patchValue(t, "babs@example.com")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if patched.StatusCode() != http.StatusNoContent || patched.HTTPResponse.Header.Get("ETag") == got.HTTPResponse.Header.Get("ETag") {
		t.Fatalf("patch: %d (ETag %q) %s", patched.StatusCode(), patched.HTTPResponse.Header.Get("ETag"), patched.Body)
	}
	after, err := c.GetUserWithResponse(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := after.ApplicationScimJSON200; a == nil || derefZero(a.Active) || a.Emails == nil || derefZero((*a.Emails)[0].Value) != "babs@example.com" {
		t.Fatalf("after patch: %s", after.Body)
	}

	// A group with the user as its member; the user's derived groups follow.
	group, err := c.CreateGroupWithApplicationScimPlusJSONBodyWithResponse(ctx, client.Group{
		Schemas:     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		DisplayName: ptrTo("Tour Guides"),
		Members:     &[]client.GroupMember{{Value: ptrTo(id)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := group.ApplicationScimJSON201
	if group.StatusCode() != http.StatusCreated || g == nil || g.ID == nil || g.Members == nil || len(*g.Members) != 1 || derefZero((*g.Members)[0].Value) != id {
		t.Fatalf("create group: %d %s", group.StatusCode(), group.Body)
	}
	gid := *g.ID
	member, err := c.GetUserWithResponse(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := member.ApplicationScimJSON200; m == nil || m.Groups == nil || len(*m.Groups) != 1 || derefZero((*m.Groups)[0].Value) != gid {
		t.Fatalf("user's groups: %s", member.Body)
	}
	removed, err := c.PatchGroupWithApplicationScimPlusJSONBodyWithResponse(ctx, gid, nil, client.PatchOp{
		Operations: []client.PatchOperation{{Op: "remove", Path: ptrTo(`members[value eq "` + id + `"]`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if removed.StatusCode() != http.StatusNoContent {
		t.Fatalf("remove member: %d %s", removed.StatusCode(), removed.Body)
	}
	emptied, err := c.GetGroupWithResponse(ctx, gid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := emptied.ApplicationScimJSON200; e == nil || (e.Members != nil && len(*e.Members) != 0) {
		t.Fatalf("group after removing its member: %s", emptied.Body)
	}

	del, err := c.DeleteUserWithResponse(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.StatusCode(), del.Body)
	}
	gone, err := c.GetUserWithResponse(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := gone.ApplicationScimJSON404; gone.StatusCode() != http.StatusNotFound || e == nil || e.Status != "404" {
		t.Fatalf("get after delete: %d %s", gone.StatusCode(), gone.Body)
	}

	// Errors decode as the SCIM Error of the document.
	dup, err := c.CreateUserWithApplicationScimPlusJSONBodyWithResponse(ctx, client.UserRequest{Schemas: []string{userURN}, UserName: "x@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if dup.StatusCode() != http.StatusCreated {
		t.Fatalf("create x: %d %s", dup.StatusCode(), dup.Body)
	}
	dup, err = c.CreateUserWithApplicationScimPlusJSONBodyWithResponse(ctx, client.UserRequest{Schemas: []string{userURN}, UserName: "X@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if e := dup.ApplicationScimJSON409; e == nil || e.ScimType == nil || *e.ScimType != client.ErrorScimTypeUniqueness {
		t.Fatalf("duplicate userName: %d %s", dup.StatusCode(), dup.Body)
	}
}

func ptrTo[T any](v T) *T { return &v }

func derefZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// patchValue is a PATCH operation's value: the document says any JSON
// value (anyOf string, number, boolean, object, array).
func patchValue(t *testing.T, s string) *client.PatchOperation_Value {
	t.Helper()
	var v client.PatchOperation_Value
	if err := v.FromPatchOperationValue0(s); err != nil {
		t.Fatal(err)
	}
	return &v
}
