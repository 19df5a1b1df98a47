package tenant

import (
	"context"
	"strings"
	"testing"
)

func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := From(ctx); ok {
		t.Fatal("empty context has a tenant")
	}
	if got := Must(With(ctx, "acme")); got != "acme" {
		t.Fatalf("Must = %q", got)
	}
	if _, ok := From(With(ctx, "")); ok {
		t.Fatal("empty name counts as a tenant")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Must without a tenant did not panic")
		}
	}()
	Must(ctx)
}

func TestValid(t *testing.T) {
	for _, ok := range []string{"a", "acme", "acme-2", "0x", strings.Repeat("a", 63), Default} {
		if err := Valid(ok); err != nil {
			t.Errorf("Valid(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "Acme", "a.b", "a_b", "é", strings.Repeat("a", 64), "a/b"} {
		if Valid(bad) == nil {
			t.Errorf("Valid(%q) = nil", bad)
		}
	}
}
