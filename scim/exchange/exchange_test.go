package exchange

import (
	"context"
	"net/http"
	"testing"
)

func TestConditionsOf(t *testing.T) {
	h := http.Header{}
	h.Add("If-Match", `W/"1"`)
	h.Add("If-Match", `W/"7"`)
	h.Add("If-None-Match", `"3"`)
	h.Add("Prefer", "handling=strict, return=Representation")
	c := ConditionsOf(h)
	want := Conditions{IfMatch: `W/"1", W/"7"`, IfNoneMatch: `"3"`, Representation: true}
	if c != want {
		t.Fatalf("ConditionsOf = %+v, want %+v", c, want)
	}
	if ConditionsOf(http.Header{}) != (Conditions{}) {
		t.Fatal("no headers gave conditions")
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if BaseURL(ctx) != "" || ConditionsFrom(ctx) != (Conditions{}) {
		t.Fatal("empty context has values")
	}
	ctx = WithConditions(WithBaseURL(ctx, "https://x/scim/v2"), Conditions{IfMatch: "*"})
	if BaseURL(ctx) != "https://x/scim/v2" || ConditionsFrom(ctx).IfMatch != "*" {
		t.Fatalf("got %q %+v", BaseURL(ctx), ConditionsFrom(ctx))
	}
}
