package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/scimforge/scimforge/internal/fixture/generated/resource"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

// TestReturnedNeverAppliesToStoredDocs: a document stored before the schema
// made an attribute returned:"never" (here: password, written into the doc
// as an earlier schema would have) never shows it, in GET and in lists.
func TestReturnedNeverAppliesToStoredDocs(t *testing.T) {
	ctx := engine.WithBaseURL(tenant.With(context.Background(), tenant.Default), "http://x/scim/v2")
	db, srv := openServer(t, "sqlite://"+filepath.Join(t.TempDir(), "r.db"), sqlstore.Options{NoCache: true})
	resp, err := srv.Users.Create(ctx, &resource.User{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, UserName: "old@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var u struct{ ID string }
	if err := json.Unmarshal(resp.Body, &u); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.ExecContext(ctx, `UPDATE scim_users SET doc = json_set(doc, '$.password', 'leaked-secret', '$.name', json('{"givenName":"Old"}')) WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	get, err := srv.Users.Get(ctx, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	list, err := srv.Users.List(ctx, engine.ListParams{Filter: `userName eq "old@example.com"`})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"GET": get.Body, "list": list.Body} {
		if bytes.Contains(body, []byte("leak")) {
			t.Errorf("%s shows a returned:never attribute of a stored document: %s", name, body)
		}
		if !bytes.Contains(body, []byte(`"givenName":"Old"`)) {
			t.Errorf("%s lost the rest of the document: %s", name, body)
		}
	}
}
