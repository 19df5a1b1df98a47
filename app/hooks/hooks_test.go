package hooks

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/generated/resource"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/scimtype"
)

func TestDomainPolicy(t *testing.T) {
	h := &User{Log: slog.New(slog.DiscardHandler), AllowedDomains: []string{"example.com"}}
	ctx := context.Background()
	if err := h.BeforeCreate(ctx, &resource.User{UserName: "bjensen@Example.COM"}); err != nil {
		t.Fatalf("allowed domain rejected: %v", err)
	}
	for _, name := range []string{"bjensen@evil.com", "bjensen", "a@example.com.evil.com"} {
		err := h.BeforeCreate(ctx, &resource.User{UserName: name})
		e := scimerr.As(err)
		if e == nil || e.Status != 400 || e.ScimType != scimerr.InvalidValue {
			t.Errorf("%q: got %v, want a 400 invalidValue", name, err)
		}
	}
	if err := h.BeforeReplace(ctx, nil, &resource.User{UserName: "x@evil.com"}); err == nil {
		t.Error("rename into a foreign domain was accepted")
	}
	open := &User{Log: slog.New(slog.DiscardHandler)}
	if err := open.BeforeCreate(ctx, &resource.User{UserName: "anyone"}); err != nil {
		t.Errorf("no policy configured, yet rejected: %v", err)
	}
}

func TestAuditLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	h := &User{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	u := &resource.User{ID: "42", UserName: "bjensen@example.com", DisplayName: "Babs Jensen"}
	if err := h.AfterCreate(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "id=42") {
		t.Errorf("audit line lacks the id: %s", out)
	}
	if strings.Contains(out, "bjensen") || strings.Contains(out, "Babs") {
		t.Errorf("audit line leaks personal data: %s", out)
	}
}

func TestPatchHooks(t *testing.T) {
	var buf bytes.Buffer
	h := &User{Log: slog.New(slog.NewTextHandler(&buf, nil)), AllowedDomains: []string{"example.com"}}
	ctx := context.Background()
	on, off := scimtype.Boolean(true), scimtype.Boolean(false)
	old := &resource.User{UserName: "legacy@old.com", Active: &on}
	if err := h.BeforePatch(ctx, old, &resource.User{UserName: "legacy@old.com", Active: &off}); err != nil {
		t.Errorf("a PATCH that keeps a pre-policy userName was rejected: %v", err)
	}
	if e := scimerr.As(h.BeforePatch(ctx, old, &resource.User{UserName: "x@evil.com"})); e == nil || e.ScimType != scimerr.InvalidValue {
		t.Errorf("a rename by PATCH into a foreign domain: %v, want 400 invalidValue", e)
	}
	if err := h.AfterPatch(ctx, old, &resource.User{ID: "7", UserName: "legacy@old.com", Active: &off}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "user deactivated") || !strings.Contains(buf.String(), "id=7") {
		t.Errorf("deactivation not logged: %s", buf.String())
	}
	buf.Reset()
	_ = h.AfterPatch(ctx, &resource.User{Active: &off}, &resource.User{ID: "7"})
	if !strings.Contains(buf.String(), "user reactivated") {
		t.Errorf("reactivation (active absent means active) not logged: %s", buf.String())
	}
}
