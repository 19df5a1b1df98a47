// Command scimforge-gen reads schemas/ and writes generated/ and
// openapi.yaml, then runs oapi-codegen over the codegen view of the spec.
// Run it from the repository root (make generate does). With -check (make
// lint-schemas) it only checks the schema folder and codegen.yaml. Either
// way, problems in them are all listed, one per line as
// "file#/json/pointer: message (fix: hint)", and exit status 1 means
// nothing was written.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/scimforge/scimforge/generator"
	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/scim/schema"
)

// codegenRun is one run of oapi-codegen: its configuration, the spec it
// reads (a file this generator renders) and the file it writes, the path
// the configuration names.
type codegenRun struct{ config, spec, output string }

var codegenRuns = []codegenRun{
	// The strict server over the codegen view (x-go-type: the resource types).
	{"generator/oapi-codegen.yaml", "generated/api/openapi.codegen.yaml", "generated/api/server.gen.go"},
	// A client of the published document, as a partner would generate it;
	// app/server/client_test.go drives the server with it.
	{"generator/oapi-codegen-client.yaml", "openapi.yaml", "generated/client/client.gen.go"},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "drop-example" {
		if err := dropExample(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "scimforge-gen drop-example:", err)
			os.Exit(1)
		}
		return
	}
	schemas := flag.String("schemas", "schemas", "folder with the RFC 7643 schema documents and codegen.yaml")
	check := flag.Bool("check", false, "only check the schema folder and codegen.yaml: report every problem, write nothing")
	stale := flag.Bool("stale", false, "do not write; exit 1 if generated files are stale")
	flag.Parse()
	var err error
	if *check {
		err = checkOnly(*schemas)
	} else {
		err = run(*schemas, *stale)
	}
	var ps schema.Problems
	switch {
	case errors.As(err, &ps):
		// One line per problem, "file#pointer: message (fix: hint)", sorted
		// by file and pointer, so editors and CI logs can jump to each.
		for _, p := range ps {
			fmt.Fprintln(os.Stderr, p)
		}
		fmt.Fprintf(os.Stderr, "scimforge-gen: %s in %s/", plural(len(ps), "problem"), *schemas)
		if !*check {
			fmt.Fprint(os.Stderr, "; nothing was written")
		}
		fmt.Fprintln(os.Stderr)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "scimforge-gen:", err)
		os.Exit(1)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// checkOnly is -check (make lint-schemas): validation without rendering.
func checkOnly(schemas string) error {
	rts, n, err := generator.Check(generator.Options{Root: ".", Schemas: schemas})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s, %s, no problems\n", schemas, plural(rts, "resource type"), plural(n, "schema"))
	return nil
}

// dropExample removes the example extension and starts the migration
// history afresh (generator.DropExample), then regenerates.
func dropExample(args []string) error {
	fs := flag.NewFlagSet("drop-example", flag.ExitOnError)
	schemas := fs.String("schemas", "schemas", "folder with the RFC 7643 schema documents and codegen.yaml")
	force := fs.Bool("force", false, "reset the migration history even if a database may have been migrated with it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: scimforge-gen drop-example [-force] [-schemas DIR]")
		fmt.Fprintln(fs.Output(), "Removes the Acme example extension from the schemas and, before any database exists, starts the migration history afresh; then regenerates.")
		fs.PrintDefaults()
	}
	fs.Parse(args)
	changed, err := generator.DropExample(generator.DropOptions{Root: ".", Schemas: *schemas,
		DatabaseURL: os.Getenv("SCIMFORGE_DATABASE_URL"), Force: *force, Log: os.Stdout})
	if err != nil || !changed {
		return err
	}
	return run(*schemas, false)
}

func run(schemas string, stale bool) error {
	files, err := generator.Render(generator.Options{Root: ".", Schemas: schemas})
	if err != nil {
		return err
	}
	for _, r := range codegenRuns {
		out, err := oapiCodegen(files, r)
		if err != nil {
			return err
		}
		files = append(files, out)
	}
	if stale {
		var old []string
		for _, f := range files {
			if b, err := os.ReadFile(f.Path); err != nil || !bytes.Equal(b, f.Data) {
				old = append(old, f.Path)
			}
		}
		if len(old) > 0 {
			return fmt.Errorf("stale generated files (run make generate): %s", strings.Join(old, ", "))
		}
		return nil
	}
	changed, err := generator.Write(".", files, nil)
	for _, c := range changed {
		fmt.Println("wrote", c)
	}
	if err != nil {
		return err
	}
	// Hooks files of new resource types: the application's, written once.
	scaffold, warnings, err := generator.Scaffold(generator.Options{Root: ".", Schemas: schemas})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "scimforge-gen: warning:", w)
	}
	wrote, err := generator.WriteScaffold(".", scaffold)
	for _, p := range wrote {
		fmt.Println("scaffolded", p, "(your hooks: edit freely, never overwritten)")
	}
	return err
}

// oapiCodegen runs oapi-codegen (pinned in tools/go.mod, away from the
// server's dependency graph) on one of the rendered specs, in a scratch
// folder so that nothing is written unless it succeeds, and returns its
// output with the scimforge header in place of oapi-codegen's own.
func oapiCodegen(files []emit.File, r codegenRun) (emit.File, error) {
	tmp, err := os.MkdirTemp("", "scimforge-gen-")
	if err != nil {
		return emit.File{}, err
	}
	defer os.RemoveAll(tmp)
	var spec []byte
	for _, f := range files {
		if f.Path == r.spec {
			spec = f.Data
		}
	}
	if spec == nil {
		return emit.File{}, fmt.Errorf("oapi-codegen: %s was not rendered", r.spec)
	}
	specPath := filepath.Join(tmp, filepath.Base(r.spec))
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return emit.File{}, err
	}
	cfg, err := os.ReadFile(r.config)
	if err != nil {
		return emit.File{}, err
	}
	out := filepath.Join(tmp, filepath.Base(r.output))
	if !bytes.Contains(cfg, []byte("output: "+r.output+"\n")) {
		return emit.File{}, fmt.Errorf("%s: want output: %s", r.config, r.output)
	}
	cfg = bytes.ReplaceAll(cfg, []byte(r.output), []byte(out))
	// oapi-codegen falls back to downloading a user template it cannot find
	// as a file; make the path absolute and check it, so it never goes online.
	tmplDir, err := filepath.Abs("templates/oapi-codegen")
	if err != nil {
		return emit.File{}, err
	}
	if _, err := os.Stat(tmplDir); err != nil {
		return emit.File{}, fmt.Errorf("oapi-codegen templates: %w (run from the repository root)", err)
	}
	cfg = bytes.ReplaceAll(cfg, []byte(" templates/oapi-codegen/"), []byte(" "+tmplDir+"/"))
	cfgPath := filepath.Join(tmp, "oapi-codegen.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return emit.File{}, err
	}
	cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "oapi-codegen", "-config", cfgPath, specPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return emit.File{}, fmt.Errorf("oapi-codegen (%s): %w", r.config, err)
	}
	src, err := os.ReadFile(out)
	if err != nil {
		return emit.File{}, err
	}
	// oapi-codegen's header names its version, so every upgrade would touch
	// the file; replace it with ours (the version is pinned in tools/go.mod).
	// The server's first line is a //go:build constraint and the client's
	// a package comment, so the header moves to the top, alone.
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "// Code generated by") {
			if i > 0 && lines[i-1] == "//" {
				i-- // the blank comment line that separated it from the package comment
				lines = append(lines[:i], lines[i+1:]...)
			}
			lines = append(lines[:i], lines[i+1:]...)
			break
		}
	}
	src, err = format.Source([]byte("// " + emit.Header + "\n\n" + strings.Join(lines, "\n")))
	if err != nil {
		return emit.File{}, err
	}
	return emit.File{Path: r.output, Data: src}, nil
}
