package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvRedocly set to "skip" skips TestRedoclyLint on a machine without
// Node.js. Without it a missing tool fails the test, as a missing
// PostgreSQL fails the store's tests (internal/pgtest), so that CI can
// never pass by not linting.
const EnvRedocly = "SCIMFORGE_TEST_REDOCLY"

// redoclyDir holds the package.json and package-lock.json that pin
// Redocly CLI; npm ci there installs it (.ci/run does).
const redoclyDir = "../tools/redocly"

// TestRedoclyLint lints the published openapi.yaml and every golden
// openapi.yaml with Redocly CLI's recommended rules, the ones partners get
// from "npx @redocly/cli lint openapi.yaml", and fails on any error or
// warning. A canary document with one known warning is linted in the same
// call, so a harness that stopped seeing problems fails too.
func TestRedoclyLint(t *testing.T) {
	switch mode := os.Getenv(EnvRedocly); mode {
	case "":
	case "skip":
		t.Skip(EnvRedocly + "=skip: not linting with Redocly")
	default:
		t.Fatalf("%s=%q: the only value is \"skip\"", EnvRedocly, mode)
	}
	npx, err := exec.LookPath("npx")
	if err != nil {
		t.Fatalf("npx not found (%v): install Node.js 20.19 or later and npm (Debian: apt-get install nodejs npm), run npm ci in tools/redocly, or set %s=skip", err, EnvRedocly)
	}
	if _, err := os.Stat(filepath.Join(redoclyDir, "node_modules", ".bin", "redocly")); err != nil {
		t.Fatalf("Redocly CLI is not installed in tools/redocly (%v): run (cd tools/redocly && npm ci), or set %s=skip", err, EnvRedocly)
	}

	docs := []string{"../openapi.yaml", "internal/openapi/testdata/small.golden.yaml"}
	golden, _ := filepath.Glob("testdata/*/want/openapi.yaml")
	if len(golden) == 0 {
		t.Fatal("no golden openapi.yaml")
	}
	docs = append(docs, golden...)
	canary := filepath.Join(t.TempDir(), "canary.yaml")
	if err := os.WriteFile(canary, []byte(`openapi: 3.0.3
info: {title: canary, version: "1", description: d}
servers: [{url: /scim/v2}]
security: []
paths: {}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, d := range append(docs, canary) {
		abs, err := filepath.Abs(d)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, abs)
	}

	// --no: never download; the pinned copy in tools/redocly or nothing.
	cmd := exec.Command(npx, append([]string{"--no", "redocly", "lint", "--format=json"}, args...)...)
	cmd.Dir = redoclyDir
	// No telemetry and no update check: tests talk to nobody.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_UPDATE_NOTIFIER=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // non-zero when there are errors; the report says which
	// One JSON report per document, one after the other.
	type report struct {
		Totals struct {
			Errors, Warnings int
		}
		Version  string
		Problems []struct {
			RuleID, Severity, Message string
			Location                  []struct {
				Source  struct{ Ref string }
				Pointer string
				Start   struct{ Line int }
			}
		}
	}
	var reports []report
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var r report
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("redocly lint (%v): reading its JSON report: %v\nstderr: %s", runErr, err, stderr.String())
		}
		reports = append(reports, r)
	}
	if len(reports) != len(args) {
		t.Fatalf("redocly lint (%v) reported on %d documents, want %d\nstderr: %s", runErr, len(reports), len(args), stderr.String())
	}
	var errs, warns, canaryHits int
	for _, r := range reports {
		errs += r.Totals.Errors
		warns += r.Totals.Warnings
		for _, p := range r.Problems {
			where := "?"
			if len(p.Location) > 0 {
				l := p.Location[0]
				where = fmt.Sprintf("%s:%d %s", l.Source.Ref, l.Start.Line, l.Pointer)
				if strings.HasSuffix(l.Source.Ref, "canary.yaml") {
					if p.RuleID == "info-license" {
						canaryHits++
					} else {
						t.Errorf("canary: unexpected %s %s: %s", p.Severity, p.RuleID, p.Message)
					}
					continue
				}
			}
			t.Errorf("%s %s at %s: %s", p.Severity, p.RuleID, where, p.Message)
		}
	}
	t.Logf("Redocly CLI %s over %d documents and the canary: %d errors, %d warnings (the canary's one included)", reports[0].Version, len(docs), errs, warns)
	if canaryHits != 1 {
		t.Errorf("the canary's missing license was reported %d times, want once: the lint no longer reports warnings\nstderr: %s", canaryHits, stderr.String())
	}
}
