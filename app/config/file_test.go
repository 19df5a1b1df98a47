package config

import (
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md")

// cleanEnv unsets every SCIMFORGE_* variable for the test (an empty
// variable counts as unset).
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SCIMFORGE_") {
			t.Setenv(k, "")
		}
	}
}

func writeConf(t *testing.T, mode os.FileMode, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scimforge.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
	return path
}

// TestConfigFilePrecedence: flags > environment > file > defaults, with the
// file named by -config or SCIMFORGE_CONFIG_FILE.
func TestConfigFilePrecedence(t *testing.T) {
	cleanEnv(t)
	path := writeConf(t, 0o644,
		"# comment",
		"; another",
		"",
		"SCIMFORGE_LISTEN=0.0.0.0:9090",
		"  SCIMFORGE_LOG_LEVEL = debug  ",
		`SCIMFORGE_ROW_CACHE="32MiB"`,
		"SCIMFORGE_LOG_FORMAT='json'",
		"SCIMFORGE_ALLOWED_DOMAINS=",
	)
	t.Setenv("SCIMFORGE_LOG_LEVEL", "warn")
	c, err := Load([]string{"-config", path, "-row-cache", "1MiB"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9090" || c.LogLevel != slog.LevelWarn || c.RowCache != 1<<20 || c.LogFormat != "json" || c.DatabaseURL != DefaultDB || c.AllowedDomains != nil {
		t.Fatalf("file < env < flag, default last: %+v", c)
	}
	// The environment names the file too; a flag still wins over it.
	t.Setenv("SCIMFORGE_CONFIG_FILE", path)
	t.Setenv("SCIMFORGE_LOG_LEVEL", "")
	if c, err = Load([]string{"-listen", "127.0.0.1:7070"}); err != nil || c.Listen != "127.0.0.1:7070" || c.LogLevel != slog.LevelDebug || c.RowCache != 32<<20 {
		t.Fatalf("SCIMFORGE_CONFIG_FILE: %+v %v", c, err)
	}
	// -config wins over SCIMFORGE_CONFIG_FILE.
	other := writeConf(t, 0o644, "SCIMFORGE_LISTEN=127.0.0.1:6060")
	if c, err = Load([]string{"-config", other}); err != nil || c.Listen != "127.0.0.1:6060" || c.LogLevel != slog.LevelInfo {
		t.Fatalf("-config over SCIMFORGE_CONFIG_FILE: %+v %v", c, err)
	}
	// The commands without flags read the file after the environment.
	t.Setenv("SCIMFORGE_TENANCY", "host")
	get, err := Lookup()
	if err != nil || get("SCIMFORGE_LISTEN", "x") != "0.0.0.0:9090" || get("SCIMFORGE_TENANCY", "") != "host" || get("SCIMFORGE_DATABASE_URL", DefaultDB) != DefaultDB {
		t.Fatalf("Lookup: %v", err)
	}
}

// TestConfigFileRefuses: what the file may not say, each refused naming the
// setting and where it is.
func TestConfigFileRefuses(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		lines []string
		want  []string
	}{
		{"unknown", 0o644, []string{"SCIMFORGE_LISTEN=:8080", "SCIMFORGE_LISTN=:8080"}, []string{":2:", "unknown setting SCIMFORGE_LISTN", "did you mean SCIMFORGE_LISTEN?"}},
		{"flag name", 0o644, []string{"log-level=debug"}, []string{":1:", "unknown setting log-level", "did you mean SCIMFORGE_LOG_LEVEL?"}},
		{"unrelated", 0o644, []string{"PATH=/bin"}, []string{"unknown setting PATH"}},
		{"token", 0o600, []string{"SCIMFORGE_TOKEN=0123456789abcdef0123"}, []string{":1:", "SCIMFORGE_TOKEN is a secret", "SCIMFORGE_TOKEN_FILE"}},
		{"webhook secret", 0o600, []string{"SCIMFORGE_WEBHOOK_SECRET=0123456789abcdef0123"}, []string{"SCIMFORGE_WEBHOOK_SECRET is a secret", "SCIMFORGE_WEBHOOK_SECRET_FILE"}},
		{"password readable", 0o640, []string{"SCIMFORGE_DATABASE_URL=postgres://scim:hunter2hunter2@db.example.com/scim"}, []string{":1:", "SCIMFORGE_DATABASE_URL holds a password", "chmod 600"}},
		{"nested", 0o644, []string{"SCIMFORGE_CONFIG_FILE=/etc/other.conf"}, []string{"SCIMFORGE_CONFIG_FILE cannot be set"}},
		{"twice", 0o644, []string{"SCIMFORGE_LISTEN=:8080", "#", "SCIMFORGE_LISTEN=:8081"}, []string{":3:", "SCIMFORGE_LISTEN is set again (first on line 1)"}},
		{"export", 0o644, []string{"export SCIMFORGE_LISTEN=:8080"}, []string{":1:", "export"}},
		{"no equals", 0o644, []string{"SCIMFORGE_LISTEN :8080"}, []string{":1:", "want NAME=value"}},
		{"quote", 0o644, []string{`SCIMFORGE_LISTEN=":8080`}, []string{"unbalanced quote"}},
		{"continuation", 0o644, []string{`SCIMFORGE_ALLOWED_DOMAINS=a.example,\`, "b.example"}, []string{"backslash"}},
		{"bad value, set", 0o644, []string{"", "SCIMFORGE_SQLITE_SHARED=sometimes"}, []string{"SCIMFORGE_SQLITE_SHARED", ":2)"}},
		{"bad value, checked later", 0o644, []string{"SCIMFORGE_LISTEN=:8080", "SCIMFORGE_LOG_FORMAT=xml"}, []string{`SCIMFORGE_LOG_FORMAT "xml"`, "scimforge.conf:2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConf(t, tc.mode, tc.lines...)
			_, err := Load([]string{"-config", path})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	if _, err := Load([]string{"-config", "/nonexistent/scimforge.conf"}); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_CONFIG_FILE") {
		t.Errorf("missing file: %v", err)
	}
	// A password is fine in a file only its owner reads, and *_FILE
	// references to secrets always are.
	secret := filepath.Join(t.TempDir(), "token")
	os.WriteFile(secret, []byte("0123456789abcdef0123\n"), 0o600)
	path := writeConf(t, 0o600, "SCIMFORGE_DATABASE_URL=postgres://scim:hunter2hunter2@db.example.com/scim", "SCIMFORGE_TOKEN_FILE="+secret)
	if c, err := Load([]string{"-config", path}); err != nil || c.Token != "0123456789abcdef0123" || !strings.Contains(c.DatabaseURL, "hunter2") {
		t.Fatalf("private file: %v", err)
	}
}

// badValues lists, for every setting, a value Load must refuse naming the
// setting (plus settings it needs to be checked), or why none exists. A
// setting added without an entry fails TestEverySettingRefusesBadValues.
var badValues = map[string]struct {
	bad  string
	with map[string]string
	none string // why any value is accepted at start
}{
	"SCIMFORGE_ALLOWED_DOMAINS":        {none: "any comma-separated list of domains"},
	"SCIMFORGE_AUTH_SCHEMES":           {bad: "kerberos"},
	"SCIMFORGE_BASIC_USER":             {bad: "a:b", with: map[string]string{"SCIMFORGE_AUTH_SCHEMES": "basic"}},
	"SCIMFORGE_AUTH_HEADER":            {bad: "Authorization", with: map[string]string{"SCIMFORGE_AUTH_SCHEMES": "header"}},
	"SCIMFORGE_OAUTH_ISSUER":           {bad: "sts", with: map[string]string{"SCIMFORGE_AUTH_SCHEMES": "oauth", "SCIMFORGE_OAUTH_ISSUER": "https://sts.windows.net/x/", "SCIMFORGE_OAUTH_AUDIENCE": "aud", "SCIMFORGE_OAUTH_JWKS_URL": "https://keys.example.com/keys"}},
	"SCIMFORGE_OAUTH_AUDIENCE":         {bad: " , ", with: map[string]string{"SCIMFORGE_AUTH_SCHEMES": "oauth", "SCIMFORGE_OAUTH_ISSUER": "https://sts.windows.net/x/", "SCIMFORGE_OAUTH_AUDIENCE": "aud", "SCIMFORGE_OAUTH_JWKS_URL": "https://keys.example.com/keys"}},
	"SCIMFORGE_OAUTH_JWKS_URL":         {bad: "http://keys.example.com/keys", with: map[string]string{"SCIMFORGE_AUTH_SCHEMES": "oauth", "SCIMFORGE_OAUTH_ISSUER": "https://sts.windows.net/x/", "SCIMFORGE_OAUTH_AUDIENCE": "aud", "SCIMFORGE_OAUTH_JWKS_URL": "https://keys.example.com/keys"}},
	"SCIMFORGE_OAUTH_LEEWAY":           {bad: "1h"},
	"SCIMFORGE_PUBLIC_DISCOVERY":       {bad: "maybe"},
	"SCIMFORGE_AUTH_MAX_FAILURES":      {bad: "many"},
	"SCIMFORGE_AUTH_FAILURE_WINDOW":    {bad: "0s"},
	"SCIMFORGE_BASE_URL":               {bad: "scim.example.com/scim/v2"},
	"SCIMFORGE_CONFIG_FILE":            {bad: "/nonexistent/scimforge.conf"},
	"SCIMFORGE_DATABASE_URL":           {bad: "mysql://db/scim"},
	"SCIMFORGE_EVENTS_MAX_AGE":         {bad: "forever"},
	"SCIMFORGE_EVENTS_RETENTION":       {bad: "week"},
	"SCIMFORGE_LISTEN":                 {bad: "8080"},
	"SCIMFORGE_LOG_FORMAT":             {bad: "xml"},
	"SCIMFORGE_LOG_LEVEL":              {bad: "loud"},
	"SCIMFORGE_ROW_CACHE":              {bad: "lots"},
	"SCIMFORGE_SQLITE_SHARED":          {bad: "sometimes"},
	"SCIMFORGE_TENANCY":                {bad: "subdomain"},
	"SCIMFORGE_TLS_CERT_FILE":          {bad: "/x/cert.pem"}, // without a key
	"SCIMFORGE_TLS_KEY_FILE":           {bad: "/x/key.pem"},  // without a certificate
	"SCIMFORGE_TOKEN":                  {bad: "short"},
	"SCIMFORGE_TOKEN_FILE":             {bad: "/nonexistent/token"},
	"SCIMFORGE_WEBHOOK_SECRET":         {bad: "short", with: map[string]string{"SCIMFORGE_WEBHOOK_URL": "https://hooks.example.com/scim"}},
	"SCIMFORGE_WEBHOOK_SECRET_FILE":    {bad: "/nonexistent/secret"},
	"SCIMFORGE_WEBHOOK_URL":            {bad: "ftp://hooks.example.com/scim"},
	"SCIMFORGE_BULK_MAX_OPERATIONS":    {bad: "-1"},
	"SCIMFORGE_BULK_MAX_PAYLOAD_BYTES": {bad: "huge"},
	"SCIMFORGE_IDLE_TIMEOUT":           {bad: "forever"},
	"SCIMFORGE_MAX_BODY_BYTES":         {bad: "big"},
	"SCIMFORGE_MAX_CONCURRENT":         {bad: "many"},
	"SCIMFORGE_MAX_FILTER_DEPTH":       {bad: "-3"},
	"SCIMFORGE_MAX_FILTER_LENGTH":      {bad: "long"},
	"SCIMFORGE_MAX_RESULTS":            {bad: "all"},
	"SCIMFORGE_MAX_VALUES":             {bad: "0.5"},
	"SCIMFORGE_MAX_VALUE_LENGTH":       {bad: "x"},
	"SCIMFORGE_METRICS_TOKEN":          {bad: "short"},
	"SCIMFORGE_METRICS_TOKEN_FILE":     {bad: "/nonexistent/metrics-token"},
	"SCIMFORGE_RATE_BURST":             {bad: "-5"},
	"SCIMFORGE_RATE_LIMIT":             {bad: "fast"},
	"SCIMFORGE_READ_HEADER_TIMEOUT":    {bad: "10"},
	"SCIMFORGE_READ_TIMEOUT":           {bad: "-1s"},
	"SCIMFORGE_REQUEST_TIMEOUT":        {bad: "soon"},
	"SCIMFORGE_SHUTDOWN_DELAY":         {bad: "later"},
	"SCIMFORGE_SHUTDOWN_TIMEOUT":       {bad: "-2s"},
	"SCIMFORGE_STRICT_ATTRIBUTES":      {bad: "maybe"},
	"SCIMFORGE_TRUSTED_PROXIES":        {bad: "10.0.0.0/99"},
	"SCIMFORGE_WRITE_TIMEOUT":          {bad: "1 minute"},
}

// TestEverySettingRefusesBadValues: a bad value of each setting stops Load
// with an error naming the setting, from the environment and (except
// secrets and the file's own name) from the configuration file, with its
// line.
func TestEverySettingRefusesBadValues(t *testing.T) {
	cleanEnv(t)
	list, err := Settings()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range list {
		known[s.Env] = true
		b, ok := badValues[s.Env]
		if !ok {
			t.Errorf("%s has no entry in badValues: add a value it must refuse, or say why any value is accepted", s.Env)
			continue
		}
		if b.none != "" {
			continue
		}
		t.Run(s.Env, func(t *testing.T) {
			for k, v := range b.with {
				t.Setenv(k, v)
			}
			t.Setenv(s.Env, b.bad)
			_, err := Load(nil)
			if err == nil || !strings.Contains(err.Error(), s.Env) {
				t.Errorf("environment %s=%q: %v", s.Env, b.bad, err)
			}
			t.Setenv(s.Env, "")
			if s.Secret || s.Env == "SCIMFORGE_CONFIG_FILE" {
				return // refused in the file whatever the value (TestConfigFileRefuses)
			}
			path := writeConf(t, 0o600, "# bad value on line 2", s.Env+"="+b.bad)
			_, err = Load([]string{"-config", path})
			if err == nil || !strings.Contains(err.Error(), s.Env) || !strings.Contains(err.Error(), path+":2") {
				t.Errorf("file %s=%q: %v", s.Env, b.bad, err)
			}
		})
	}
	for k := range badValues {
		if !known[k] {
			t.Errorf("badValues lists %s, which is no setting", k)
		}
	}
}

// TestSettingsConvention: every flag names its variable, and the secrets
// are recognised as such (no flag, a *_FILE that names them).
func TestSettingsConvention(t *testing.T) {
	cleanEnv(t)
	list, err := Settings()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Setting{}
	for _, s := range list {
		got[s.Env] = s
		if !s.Secret && s.Flag != "config" && "SCIMFORGE_"+strings.ToUpper(strings.ReplaceAll(s.Flag, "-", "_")) != s.Env {
			t.Errorf("flag -%s mirrors %s: name them alike", s.Flag, s.Env)
		}
	}
	for _, name := range []string{"SCIMFORGE_TOKEN", "SCIMFORGE_WEBHOOK_SECRET"} {
		if s := got[name]; !s.Secret || s.Flag != "" || s.FileEnv != name+"_FILE" {
			t.Errorf("%s is not listed as a secret: %+v", name, s)
		}
	}
	if s := got["SCIMFORGE_TLS_CERT_FILE"]; s.Secret || got["SCIMFORGE_TLS_CERT"].Env != "" {
		t.Errorf("a certificate file taken for a secret's: %+v", got["SCIMFORGE_TLS_CERT"])
	}
	if got["SCIMFORGE_LISTEN"].Default != DefaultListen || got["SCIMFORGE_CONFIG_FILE"].Flag != "config" {
		t.Errorf("listen/config: %+v %+v", got["SCIMFORGE_LISTEN"], got["SCIMFORGE_CONFIG_FILE"])
	}
	// A flag that hides its variable is reported.
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("quiet", "", "no variable named")
	if _, err := settings(fs); err == nil || !strings.Contains(err.Error(), "-quiet") {
		t.Errorf("flag without a variable: %v", err)
	}
	t.Setenv("SCIMFORGE_LISTEN", "0.0.0.0:1")
	if _, err := Settings(); err == nil {
		t.Error("Settings with SCIMFORGE_LISTEN set gave defaults")
	}
}

// TestConfigurationDoc fails when docs/configuration.md is not what the
// settings give: after adding a setting, run
// go test ./app/config -run TestConfigurationDoc -update.
func TestConfigurationDoc(t *testing.T) {
	cleanEnv(t)
	list, err := Settings()
	if err != nil {
		t.Fatal(err)
	}
	want := Markdown(list)
	path := filepath.Join("..", "..", "docs", "configuration.md")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("docs/configuration.md is stale: run go test ./app/config -run TestConfigurationDoc -update and commit it")
	}
	for _, s := range list {
		if !strings.Contains(want, "| `"+s.Env+"` |") {
			t.Errorf("%s missing from the table", s.Env)
		}
	}
}
