package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/generated/resource"
	history "github.com/scimforge/scimforge/migrations"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

// TestReturnedNeverAppliesToStoredDocs: a document stored before the schema
// made an attribute returned:"never" (here: password, written into the doc
// as an earlier schema would have) never shows it, in GET and in lists.
func TestReturnedNeverAppliesToStoredDocs(t *testing.T) {
	ctx := engine.WithBaseURL(tenant.With(context.Background(), tenant.Default), "http://x/scim/v2")
	db, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "r.db"), fs.FS(history.FS), sqlstore.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := api.NewServer(db, api.Hooks{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
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
