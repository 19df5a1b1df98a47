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

func create(name string) *resource.UserWrite {
	return &resource.UserWrite{ID: "1", New: &resource.User{UserName: name}}
}

func TestDomainPolicy(t *testing.T) {
	h := &User{Log: slog.New(slog.DiscardHandler), AllowedDomains: []string{"example.com"}}
	ctx := context.Background()
	if err := h.BeforeCreate(ctx, create("bjensen@Example.COM")); err != nil {
		t.Fatalf("allowed domain rejected: %v", err)
	}
	for _, name := range []string{"bjensen@evil.com", "bjensen", "a@example.com.evil.com"} {
		err := h.BeforeCreate(ctx, create(name))
		e := scimerr.As(err)
		if e == nil || e.Status != 400 || e.ScimType != scimerr.InvalidValue {
			t.Errorf("%q: got %v, want a 400 invalidValue", name, err)
		}
	}
	rename := &resource.UserWrite{Old: &resource.User{UserName: "x@example.com"}, New: &resource.User{UserName: "x@evil.com"}}
	if err := h.BeforeReplace(ctx, rename); err == nil {
		t.Error("rename into a foreign domain was accepted")
	}
	// A user from before the policy keeps working while not renamed.
	kept := &resource.UserWrite{Old: &resource.User{UserName: "old@legacy.com"}, New: &resource.User{UserName: "OLD@legacy.com", DisplayName: "x"}}
	if err := h.BeforePatch(ctx, kept); err != nil {
		t.Errorf("unrenamed legacy user rejected: %v", err)
	}
	open := &User{Log: slog.New(slog.DiscardHandler)}
	if err := open.BeforeCreate(ctx, create("anyone")); err != nil {
		t.Errorf("no policy configured, yet rejected: %v", err)
	}
}

func TestAuditLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	h := &User{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	ctx := context.Background()
	u := &resource.User{ID: "42", UserName: "bjensen@example.com", DisplayName: "Babs Jensen"}
	off := scimtype.Boolean(false)
	was := &resource.User{ID: "42", UserName: "bjensen@example.com", DisplayName: "Babs Jensen"}
	now := *was
	now.Active = &off
	for _, err := range []error{
		h.AfterCreate(ctx, &resource.UserWrite{ID: "42", New: u}),
		h.AfterPatch(ctx, &resource.UserWrite{ID: "42", Old: was, New: &now, Changed: []string{"active"}}),
		h.AfterDelete(ctx, &resource.UserWrite{ID: "42", Old: u}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	for _, secret := range []string{"bjensen", "Babs", "Jensen"} {
		if strings.Contains(out, secret) {
			t.Errorf("audit log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"user provisioned", "user deactivated", "user deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit log lacks %q:\n%s", want, out)
		}
	}
}

func TestEveryResourceTypeRegistered(t *testing.T) {
	h := New(Deps{})
	if h.User == nil || h.Group == nil {
		t.Fatalf("New left a resource type without hooks: %+v", h)
	}
}
