package sqlstore

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"sqlite://scimforge.db":            "scimforge.db",
		"sqlite://data/scim.db":            "data/scim.db",
		"sqlite:///var/lib/scimforge/x.db": "/var/lib/scimforge/x.db",
	} {
		loc, err := ParseURL(raw)
		if err != nil || loc.Path != want {
			t.Errorf("ParseURL(%q) = %+v, %v; want path %q", raw, loc, err, want)
		}
	}
	for _, raw := range []string{"", "sqlite://", "mysql://x", "sqlite://x.db?mode=ro", "postgres://u:hunter2@h/db"} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", raw)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestTimeFormatSortsAsText(t *testing.T) {
	a := FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	b := FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 100, time.UTC))
	if !(a < b) || len(a) != len(b) {
		t.Errorf("%s and %s do not sort as text", a, b)
	}
	if got, ok := CanonicalTime("2024-01-02T05:04:05+02:00"); !ok || got != "2024-01-02T03:04:05.000000000Z" {
		t.Errorf("CanonicalTime = %q, %v", got, ok)
	}
	if _, ok := CanonicalTime("2024-01-02"); ok {
		t.Error("date-only accepted as dateTime")
	}
}
