package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfigFile: whatever a configuration file holds, Load either accepts
// it or refuses it with an error naming the file's line or a setting,
// never panics, and never echoes a secret value from it.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		"SCIMFORGE_LISTEN=127.0.0.1:9090\n",
		"# comment\n; other\n\nSCIMFORGE_LOG_FORMAT=\"json\"\n",
		"SCIMFORGE_LISTEN='0.0.0.0:8080'\nSCIMFORGE_LISTEN=x\n",
		"export SCIMFORGE_LISTEN=1\n",
		"SCIMFORGE_TOKEN=supersecretvalue-0123456789\n",
		"SCIMFORGE_LISTN=1\n",
		"SCIMFORGE_DATABASE_URL=postgres://u:pw@h/db\n",
		"SCIMFORGE_ROW_CACHE=\"64MiB\n",
		"SCIMFORGE_RATE_LIMIT=1e309\nSCIMFORGE_MAX_VALUES=-1\n",
		"SCIMFORGE_AUTH_SCHEMES=basic,header\nSCIMFORGE_AUTH_HEADER=X-Api-Key\n",
		"=\n\\\n\"\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(dir, "scimforge.env")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load([]string{"-config", path, "-database-url", "sqlite://x.db"})
		if err == nil {
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, path) && !strings.Contains(msg, "SCIMFORGE_") {
			t.Errorf("error names neither the file nor a setting: %v", err)
		}
		if strings.Contains(content, "SCIMFORGE_TOKEN=supersecretvalue") && strings.Contains(msg, "supersecretvalue") {
			t.Errorf("error echoes the secret: %v", err)
		}
	})
}
