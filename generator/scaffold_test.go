package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/generator/internal/emit"
)

// TestScaffoldHooks: a resource type without a hooks file gets one, once;
// an edited file is never overwritten; a file for a resource type that is
// gone is reported.
func TestScaffoldHooks(t *testing.T) {
	root := t.TempDir()
	// The device golden case's schemas, copied so the test owns its tree.
	if err := os.CopyFS(filepath.Join(root, "schemas"), os.DirFS("testdata/device/schemas")); err != nil {
		t.Fatal(err)
	}
	opt := Options{Root: root, Schemas: "schemas"}
	files, warnings, err := Scaffold(opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 || len(files) != 1 || files[0].Path != "app/hooks/device.go" {
		t.Fatalf("first run: files %v, warnings %v", paths(files), warnings)
	}
	src := string(files[0].Data)
	for _, want := range []string{"// scimforge:hooks Device\n", "resource.UnimplementedDeviceHooks", "h.Device = &Device{Deps: d}", "*resource.DeviceWrite"} {
		if !strings.Contains(src, want) {
			t.Errorf("scaffold lacks %q:\n%s", want, src)
		}
	}
	wrote, err := WriteScaffold(root, files)
	if err != nil || len(wrote) != 1 {
		t.Fatalf("write: %v %v", wrote, err)
	}
	// The application edits its file; the next run leaves it alone.
	path := filepath.Join(root, "app/hooks/device.go")
	edited := strings.Replace(src, "audit: Device created", "my own message", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _, err = Scaffold(opt)
	if err != nil || len(files) != 0 {
		t.Fatalf("second run wants to write %v (%v)", paths(files), err)
	}
	if _, err := WriteScaffold(root, []emit.File{{Path: "app/hooks/device.go", Data: []byte("overwritten")}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != edited {
		t.Fatal("WriteScaffold overwrote an existing file")
	}
	// A hooks file whose resource type left the schemas is reported.
	if err := os.WriteFile(filepath.Join(root, "app/hooks/printer.go"), []byte("// scimforge:hooks Printer\npackage hooks\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err = Scaffold(opt)
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], `"Printer"`) || !strings.Contains(warnings[0], "app/hooks/printer.go") {
		t.Fatalf("stale file: warnings %v (%v)", warnings, err)
	}
}

func paths(files []emit.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}
