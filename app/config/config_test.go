package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		{"-token", "on-the-command-line-0123456789"},      // no secrets in flags
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

func TestEventsAndWebhook(t *testing.T) {
	for _, k := range []string{"SCIMFORGE_TENANCY", "SCIMFORGE_TOKEN", "SCIMFORGE_BASE_URL", "SCIMFORGE_EVENTS_RETENTION", "SCIMFORGE_EVENTS_MAX_AGE",
		"SCIMFORGE_WEBHOOK_URL", "SCIMFORGE_WEBHOOK_SECRET", "SCIMFORGE_WEBHOOK_SECRET_FILE"} {
		t.Setenv(k, "")
	}
	day := 24 * time.Hour
	c, err := Load(nil)
	if err != nil || c.EventsRetention != 7*day || c.EventsMaxAge != 30*day || c.WebhookURL != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	t.Setenv("SCIMFORGE_EVENTS_RETENTION", "168h")
	if c, err = Load(nil); err != nil || c.EventsRetention != 7*day {
		t.Fatalf("168h: %+v %v", c, err)
	}
	// The hard limit is never below the retention.
	if c, err = Load([]string{"-events-retention", "60d"}); err != nil || c.EventsMaxAge != 60*day {
		t.Fatalf("60d: %+v %v", c, err)
	}
	if c, err = Load([]string{"-events-retention", "0", "-events-max-age", "0"}); err != nil || c.EventsRetention != 0 || c.EventsMaxAge != 0 {
		t.Fatalf("0: %+v %v", c, err)
	}
	for _, bad := range []string{"7", "-1h", "1.5d", "week"} {
		if _, err := Load([]string{"-events-retention", bad}); err == nil {
			t.Errorf("retention %q accepted", bad)
		}
	}

	t.Setenv("SCIMFORGE_WEBHOOK_URL", "https://hooks.example.com/scim")
	if _, err := Load(nil); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_WEBHOOK_SECRET") {
		t.Fatalf("URL without a secret: %v", err)
	}
	t.Setenv("SCIMFORGE_WEBHOOK_SECRET", "short")
	if _, err := Load(nil); err == nil {
		t.Fatal("short secret accepted")
	}
	t.Setenv("SCIMFORGE_WEBHOOK_SECRET", "0123456789abcdef0123")
	if c, err = Load(nil); err != nil || c.WebhookSecret != "0123456789abcdef0123" {
		t.Fatalf("env secret: %+v %v", c, err)
	}
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("from-a-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{"-webhook-secret-file", file}); err == nil {
		t.Fatal("secret and secret file both accepted")
	}
	t.Setenv("SCIMFORGE_WEBHOOK_SECRET", "")
	t.Setenv("SCIMFORGE_WEBHOOK_SECRET_FILE", file)
	if c, err = Load(nil); err != nil || c.WebhookSecret != "from-a-file-0123456789" {
		t.Fatalf("file secret: %+v %v", c, err)
	}
	if _, err := Load([]string{"-webhook-url", "ftp://x/y"}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

// TestTokenFromFile: the static token comes from SCIMFORGE_TOKEN or a file,
// never a flag; both at once, a short one or a missing file are refused
// naming the setting.
func TestTokenFromFile(t *testing.T) {
	t.Setenv("SCIMFORGE_TOKEN", "")
	t.Setenv("SCIMFORGE_TOKEN_FILE", "")
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("from-a-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"-token-file", path})
	if err != nil || c.Token != "from-a-file-0123456789" {
		t.Fatalf("-token-file: %q %v", c.Token, err)
	}
	t.Setenv("SCIMFORGE_TOKEN_FILE", path)
	if c, err := Load(nil); err != nil || c.Token != "from-a-file-0123456789" {
		t.Fatalf("SCIMFORGE_TOKEN_FILE: %v", err)
	}
	t.Setenv("SCIMFORGE_TOKEN", "from-the-environment-0123")
	if _, err := Load(nil); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both set: %v", err)
	}
	t.Setenv("SCIMFORGE_TOKEN_FILE", "")
	if c, err := Load(nil); err != nil || c.Token != "from-the-environment-0123" {
		t.Fatalf("SCIMFORGE_TOKEN: %v", err)
	}
	t.Setenv("SCIMFORGE_TOKEN", "")
	if _, err := Load([]string{"-token-file", path + ".missing"}); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_TOKEN_FILE") {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(path, []byte("short\n"), 0o600)
	if _, err := Load([]string{"-token-file", path}); err == nil || !strings.Contains(err.Error(), "16") {
		t.Fatalf("short token from a file: %v", err)
	}
}

func TestTLSFilesBothOrNeither(t *testing.T) {
	t.Setenv("SCIMFORGE_TLS_CERT_FILE", "")
	t.Setenv("SCIMFORGE_TLS_KEY_FILE", "")
	if _, err := Load([]string{"-tls-cert-file", "/x/cert.pem"}); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_TLS_KEY_FILE") {
		t.Fatalf("cert without key: %v", err)
	}
	c, err := Load([]string{"-tls-cert-file", "/x/cert.pem", "-tls-key-file", "/x/key.pem"})
	if err != nil || c.TLSCertFile != "/x/cert.pem" || c.TLSKeyFile != "/x/key.pem" {
		t.Fatalf("both: %+v %v", c, err)
	}
}

func TestLogSettings(t *testing.T) {
	t.Setenv("SCIMFORGE_LOG_FORMAT", "")
	t.Setenv("SCIMFORGE_LOG_LEVEL", "")
	c, err := Load(nil)
	if err != nil || c.LogFormat != "text" || c.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if c, err := Load([]string{"-log-format", "json", "-log-level", "warn"}); err != nil || c.LogFormat != "json" || c.LogLevel != slog.LevelWarn {
		t.Fatalf("json warn: %+v %v", c, err)
	}
	for _, args := range [][]string{{"-log-format", "xml"}, {"-log-level", "loud"}} {
		if _, err := Load(args); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_LOG_") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
