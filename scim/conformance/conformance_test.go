package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/fixture/fixtureserver"
	"github.com/scimforge/scimforge/internal/fixture/migrations"
	"github.com/scimforge/scimforge/scim/conformance"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// fixture serves the fixture schema set (internal/fixture) over a fresh
// SQLite database, with wrap (if any) around the handler.
func fixture(t *testing.T, wrap func(http.Handler) http.Handler) (conformance.Target, *schema.Set) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "c.db"), migrations.FS, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, err := fixtureserver.Handler(db, conformance.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	set, err := fixtureserver.Set()
	if err != nil {
		t.Fatal(err)
	}
	return conformance.Target{Handler: h, BasePath: fixtureserver.BasePath}, set
}

func samples(set *schema.Set) map[string]conformance.Samples {
	s := map[string]conformance.Samples{}
	for _, rt := range set.ResourceTypes {
		s[rt.Name] = conformance.BaseSamples(rt)
	}
	return s
}

// TestFixtureConforms runs the suite on every fixture resource type: the
// engine honours each characteristic the suite checks.
func TestFixtureConforms(t *testing.T) {
	tg, set := fixture(t, nil)
	for _, rt := range set.ResourceTypes {
		t.Run(rt.Name, func(t *testing.T) {
			conformance.Run(t, conformance.Suite{Set: set, Type: rt.Name, Samples: samples(set), Members: rt.Name == "Group"}, tg)
		})
	}
}

// brokenEnv names the breakage TestBrokenServer runs against, in the child
// process TestBrokenServersFail starts.
const brokenEnv = "SCIMFORGE_CONFORMANCE_BROKEN"

// breakage is a correct server made wrong in one way, and what the suite's
// failure must mention.
type breakage struct {
	typ  string // resource type the suite runs on
	sub  string // the suite's subtest that must catch it (the others are not run)
	wrap func(http.Handler) http.Handler
	want string // in the failing run's output
}

var breakages = map[string]breakage{
	// Answers with the writeOnly, never-returned attribute.
	"leaks writeOnly": {"Asset", "returned", rewrite(func(r *http.Request, status int, doc map[string]any) int {
		eachResource(doc, func(m map[string]any) { m["secretCode"] = "leaked" })
		return status
	}), `has secretCode`},
	// Drops a filter that names weight: every resource matches.
	"ignores a filter": {"Asset", "filter", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if q := r.URL.Query(); strings.Contains(q.Get("filter"), "weight gt") {
				q.Del("filter")
				r.URL.RawQuery = q.Encode()
			}
			h.ServeHTTP(w, r)
		})
	}, `filter weight gt`},
	// Sorts ascending whatever sortOrder says.
	"ignores sortOrder": {"Asset", "sort", dropParam("sortOrder"), `sortOrder=descending`},
	// Ignores attributes= (returned "request" attributes never come back).
	"ignores attributes": {"Asset", "returned", dropParam("attributes"), `asking for notes: lacks it`},
	// Accepts a duplicate unique value (409 becomes 201).
	"accepts duplicates": {"Asset", "uniqueness", rewrite(func(r *http.Request, status int, doc map[string]any) int {
		if status == http.StatusConflict {
			return http.StatusCreated
		}
		return status
	}), `status 201, want 409`},
	// Answers a PATCH remove without applying it.
	"ignores PATCH remove": {"Asset", "patch", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.Method == http.MethodPatch && strings.Contains(string(body), `"op":"remove"`) {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(w, r)
		})
	}, `want it removed`},
	// Lets an immutable attribute change (its 400 mutability becomes 200).
	"lets immutable change": {"Asset", "mutability", rewrite(func(r *http.Request, status int, doc map[string]any) int {
		if doc["scimType"] == "mutability" {
			return http.StatusOK
		}
		return status
	}), `want 400 (scimType "mutability")`},
	// Loses an extension attribute on create.
	"drops an extension attribute": {"Asset", "create and read", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var doc map[string]any
			if r.Method == http.MethodPost && json.Unmarshal(body, &doc) == nil {
				if ext, ok := doc["urn:example:params:scim:schemas:extension:fixture:2.0:Audit"].(map[string]any); ok {
					delete(ext, "score")
					body, _ = json.Marshal(doc)
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			h.ServeHTTP(w, r)
		})
	}, `Audit:score was sent`},
	// Adds no members by PATCH.
	"ignores members added": {"Group", "members", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.Method == http.MethodPatch && strings.Contains(string(body), `"path":"members"`) {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(w, r)
		})
	}, `GET after PATCH add members (twice): member`},
}

// dropParam removes a query parameter from every request.
func dropParam(name string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del(name)
			r.URL.RawQuery = q.Encode()
			h.ServeHTTP(w, r)
		})
	}
}

// rewrite lets f change a response's JSON body and status.
func rewrite(f func(r *http.Request, status int, doc map[string]any) int) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			status, body := rec.Code, rec.Body.Bytes()
			var doc map[string]any
			if json.Unmarshal(body, &doc) == nil {
				status = f(r, status, doc)
				body, _ = json.Marshal(doc)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(status)
			w.Write(body)
		})
	}
}

// eachResource calls f on the resource a body is, or on each resource of a
// ListResponse.
func eachResource(doc map[string]any, f func(map[string]any)) {
	if rs, ok := doc["Resources"].([]any); ok {
		for _, r := range rs {
			if m, ok := r.(map[string]any); ok {
				f(m)
			}
		}
		return
	}
	if _, ok := doc["id"]; ok {
		f(doc)
	}
}

// TestBrokenServer runs the suite against one broken server; it runs in
// the child processes of TestBrokenServersFail, whose failure is expected.
func TestBrokenServer(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only as TestBrokenServersFail's child process (" + brokenEnv + " names the breakage)")
	}
	b, ok := breakages[name]
	if !ok {
		t.Fatalf("%s=%q: no such breakage", brokenEnv, name)
	}
	tg, set := fixture(t, b.wrap)
	conformance.Run(t, conformance.Suite{Set: set, Type: b.typ, Samples: samples(set), Members: b.typ == "Group"}, tg)
}

// TestBrokenServersFail proves the suite can fail: against a server broken
// in each of several ways it fails, saying what broke.
func TestBrokenServersFail(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: each breakage runs the suite in a child process")
	}
	names := make([]string, 0, len(breakages))
	for n := range breakages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b := breakages[name]
			run := "^TestBrokenServer$/^" + regexp.QuoteMeta(strings.ReplaceAll(b.sub, " ", "_")) + "$"
			cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed against a server that %s:\n%s", name, out)
			}
			if !strings.Contains(string(out), breakages[name].want) {
				t.Errorf("the suite failed against a server that %s, but its output lacks %q:\n%s", name, breakages[name].want, out)
			}
		})
	}
}
