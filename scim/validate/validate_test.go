package validate

import (
	"testing"

	"github.com/scimforge/scimforge/scim/scimerr"
)

type sub struct {
	Value string `json:"value,omitempty" validate:"omitempty,scim_canonical=work home"`
	When  string `json:"when,omitempty" validate:"omitempty,scim_datetime"`
}

type res struct {
	Name string `json:"userName,omitempty" validate:"required"`
	One  *sub   `json:"one,omitempty"`
	Many []sub  `json:"many,omitempty" validate:"omitempty,dive"`
	Tags []string
	Flag *bool
	Ext  *sub `json:"urn:x:2.0:Ext,omitempty"`
}

func TestNormalize(t *testing.T) {
	f := false
	r := &res{One: &sub{}, Many: []sub{{}, {Value: "work"}, {}}, Tags: []string{"", "a"}, Flag: &f, Ext: &sub{}}
	Normalize(r)
	if r.One != nil || r.Ext != nil {
		t.Error("empty complex values were kept")
	}
	if len(r.Many) != 1 || r.Many[0].Value != "work" {
		t.Errorf("Many = %+v", r.Many)
	}
	if len(r.Tags) != 1 || r.Flag == nil {
		t.Errorf("Tags = %v, Flag = %v (false is a value)", r.Tags, r.Flag)
	}
	empty := &res{Many: []sub{}, Tags: []string{}}
	Normalize(empty)
	if empty.Many != nil || empty.Tags != nil {
		t.Error("empty slices were not made nil")
	}
}

func TestStructErrorsUseSCIMPaths(t *testing.T) {
	v := New()
	cases := []struct {
		r    *res
		want string
	}{
		{&res{}, "userName is required"},
		{&res{Name: "a", Many: []sub{{Value: "WORK"}, {Value: "bogus"}}}, `many[1].value: "bogus" is not one of the canonical values work, home`},
		{&res{Name: "a", Ext: &sub{When: "yesterday"}}, `urn:x:2.0:Ext:when: "yesterday" is not an xsd:dateTime`},
	}
	for _, c := range cases {
		err := Struct(v, c.r, []string{"urn:x:2.0:Ext"})
		e := scimerr.As(err)
		if e == nil || e.Status != 400 || e.ScimType != scimerr.InvalidValue {
			t.Fatalf("%+v: got %v", c.r, err)
		}
		if len(e.Detail) < len(c.want) || e.Detail[:len(c.want)] != c.want {
			t.Errorf("detail %q, want prefix %q", e.Detail, c.want)
		}
	}
	if err := Struct(v, &res{Name: "ok", Many: []sub{{Value: "Home", When: "2024-01-02T03:04:05Z"}}}, nil); err != nil {
		t.Errorf("valid value rejected: %v", err)
	}
}
