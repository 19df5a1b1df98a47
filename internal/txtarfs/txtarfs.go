// Package txtarfs reads and writes the fixture archives of the schema
// checks' tests: a comment, then files introduced by "-- name --" lines
// (the txtar format of golang.org/x/tools, which the module does not
// otherwise need). A whole fixture schema set, with what it should produce,
// then fits in one readable file.
package txtarfs

import (
	"os"
	"strings"
	"testing/fstest"
)

// Archive is a parsed fixture.
type Archive struct {
	Comment string
	Names   []string // in file order
	Files   map[string]string
}

// Read parses the archive at path.
func Read(path string) (*Archive, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(string(raw)), nil
}

// Parse parses an archive.
func Parse(text string) *Archive {
	a := &Archive{Files: map[string]string{}}
	cur, inFile := "", false
	var body strings.Builder
	flush := func() {
		if !inFile {
			a.Comment = body.String()
		} else {
			a.Files[cur] = body.String()
			a.Names = append(a.Names, cur)
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "-- "); ok && strings.HasSuffix(name, " --") {
			flush()
			cur, inFile = strings.TrimSuffix(name, " --"), true
			continue
		}
		body.WriteString(line)
	}
	flush()
	return a
}

// Set replaces (or appends) the file name.
func (a *Archive) Set(name, body string) {
	if _, ok := a.Files[name]; !ok {
		a.Names = append(a.Names, name)
	}
	a.Files[name] = body
}

// Write writes the archive to path.
func (a *Archive) Write(path string) error {
	var b strings.Builder
	b.WriteString(a.Comment)
	for _, n := range a.Names {
		b.WriteString("-- " + n + " --\n")
		b.WriteString(a.Files[n])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// FS is the archive's files, except those named in skip, as a file system.
func (a *Archive) FS(skip ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range a.Files {
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == name
		}
		if !skipped {
			fsys[name] = &fstest.MapFile{Data: []byte(body)}
		}
	}
	return fsys
}
