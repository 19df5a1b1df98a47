package config

import (
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/web"
)

func TestLoadTenancy(t *testing.T) {
	for _, k := range []string{"SCIMFORGE_TENANCY", "SCIMFORGE_TOKEN", "SCIMFORGE_BASE_URL"} {
		t.Setenv(k, "")
	}
	c, err := Load(nil)
	if err != nil || c.Tenancy != web.TenancyNone || c.Token != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	t.Setenv("SCIMFORGE_TENANCY", "path")
	if c, err = Load(nil); err != nil || c.Tenancy != web.TenancyPath {
		t.Fatalf("env: %+v %v", c, err)
	}
	if c, err = Load([]string{"-tenancy", "host", "-base-url", "https://{tenant}.example.com/scim/v2/"}); err != nil || c.Tenancy != web.TenancyHost || c.BaseURL != "https://{tenant}.example.com/scim/v2" {
		t.Fatalf("flags: %+v %v", c, err)
	}
	for _, args := range [][]string{
		{"-tenancy", "subdomain"},
		{"-base-url", "https://scim.example.com/scim/v2"}, // path tenancy without {tenant}
		{"-tenancy", "none", "-token", "short"},
	} {
		if _, err := Load(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := Load([]string{"-base-url", "https://x/scim/v2"}); err == nil || !strings.Contains(err.Error(), "{tenant}") {
		t.Errorf("error does not say what is missing: %v", err)
	}
}

func TestRowCacheSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "64MiB": 64 << 20, "200MB": 200e6, "1GiB": 1 << 30, " 32 MiB ": 32 << 20} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"50000", "-1MiB", "lots", "", "2TiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestSQLiteShared(t *testing.T) {
	c, err := Load([]string{"-sqlite-shared", "true"})
	if err != nil || !c.SQLiteShared {
		t.Fatalf("-sqlite-shared true: %+v %v", c, err)
	}
	if c, err := Load(nil); err != nil || c.SQLiteShared {
		t.Fatalf("default: %+v %v", c, err)
	}
	if _, err := Load([]string{"-sqlite-shared", "sometimes"}); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_SQLITE_SHARED") {
		t.Fatalf("a bad value: %v", err)
	}
}
