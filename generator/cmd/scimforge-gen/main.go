// Command scimforge-gen reads schemas/ and writes generated/ and
// openapi.yaml, then runs oapi-codegen over the codegen view of the spec.
// Run it from the repository root (make generate does).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/scimforge/scimforge/generator"
	"github.com/scimforge/scimforge/generator/internal/emit"
)

// serverGen is the file oapi-codegen writes (see generator/oapi-codegen.yaml).
const serverGen = "generated/api/server.gen.go"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "drop-example" {
		if err := dropExample(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "scimforge-gen drop-example:", err)
			os.Exit(1)
		}
		return
	}
	schemas := flag.String("schemas", "schemas", "folder with the RFC 7643 schema documents and codegen.yaml")
	check := flag.Bool("check", false, "do not write; exit 1 if generated files are stale")
	flag.Parse()
	if err := run(*schemas, *check); err != nil {
		fmt.Fprintln(os.Stderr, "scimforge-gen:", err)
		os.Exit(1)
	}
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

func run(schemas string, check bool) error {
	files, err := generator.Render(generator.Options{Root: ".", Schemas: schemas})
	if err != nil {
		return err
	}
	server, err := oapiCodegen(files)
	if err != nil {
		return err
	}
	files = append(files, server)
	if check {
		var stale []string
		for _, f := range files {
			if old, err := os.ReadFile(f.Path); err != nil || !bytes.Equal(old, f.Data) {
				stale = append(stale, f.Path)
			}
		}
		if len(stale) > 0 {
			return fmt.Errorf("stale generated files (run make generate): %s", strings.Join(stale, ", "))
		}
		return nil
	}
	changed, err := generator.Write(".", files, nil)
	for _, c := range changed {
		fmt.Println("wrote", c)
	}
	return err
}

// oapiCodegen runs oapi-codegen (pinned in tools/go.mod, away from the
// server's dependency graph) on the codegen view, in a scratch folder so
// that nothing is written unless it succeeds, and returns its output with
// the scimforge header in place of oapi-codegen's own.
func oapiCodegen(files []emit.File) (emit.File, error) {
	tmp, err := os.MkdirTemp("", "scimforge-gen-")
	if err != nil {
		return emit.File{}, err
	}
	defer os.RemoveAll(tmp)
	var spec []byte
	for _, f := range files {
		if f.Path == "generated/api/openapi.codegen.yaml" {
			spec = f.Data
		}
	}
	specPath := filepath.Join(tmp, "openapi.codegen.yaml")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return emit.File{}, err
	}
	cfg, err := os.ReadFile("generator/oapi-codegen.yaml")
	if err != nil {
		return emit.File{}, err
	}
	out := filepath.Join(tmp, "server.gen.go")
	cfg = bytes.ReplaceAll(cfg, []byte(serverGen), []byte(out))
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
		return emit.File{}, fmt.Errorf("oapi-codegen: %w", err)
	}
	src, err := os.ReadFile(out)
	if err != nil {
		return emit.File{}, err
	}
	// oapi-codegen's header names its version, so every upgrade would touch
	// the file; replace it with ours (the version is pinned in tools/go.mod).
	// Its first line is a //go:build constraint, so the header moves to the top.
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "// Code generated by") {
			lines = append(lines[:i], lines[i+1:]...)
			break
		}
	}
	src, err = format.Source([]byte("// " + emit.Header + "\n\n" + strings.Join(lines, "\n")))
	if err != nil {
		return emit.File{}, err
	}
	return emit.File{Path: serverGen, Data: src}, nil
}
