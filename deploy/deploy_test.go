// Package deploy holds the example systemd unit and environment file; its
// tests check them and the repository's Dockerfile without a Docker engine.
package deploy

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/config"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
	line      int
}

// parseDockerfile splits a Dockerfile into stages of instructions. It
// reads what this repository's Dockerfile uses (no heredocs, no escape
// directive); .ci/run lints the file with a real parser.
func parseDockerfile(t *testing.T, path string) [][]instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasPrefix(line, "#") { // a comment inside a continued instruction
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		cur.Reset()
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile:%d: %s before FROM", in.line, in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

func find(stage []instruction, cmd string) []instruction {
	var out []instruction
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// shellFields splits a shell word list, honouring quotes (enough for a
// go build command line).
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// TestDockerfile: the final stage runs as a non-root user, with a health
// check that needs no shell, the port and the data volume; and the build
// stage's go build command, run here as written, gives a static binary
// with the version stamped in.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	final := stages[len(stages)-1]
	if base := final[0].args; !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s: want distroless static or scratch (no shell, no libc)", base)
	}

	users := find(final, "USER")
	if len(users) == 0 {
		t.Fatal("final stage has no USER: it would run as root")
	}
	user, _, _ := strings.Cut(users[len(users)-1].args, ":")
	if uid, err := strconv.Atoi(user); err != nil || uid == 0 {
		t.Errorf("USER %q: want a numeric non-zero UID (so that runAsNonRoot can check it)", users[len(users)-1].args)
	}

	var entrypoint []string
	if e := find(final, "ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0].args), &entrypoint) != nil || len(entrypoint) == 0 {
		t.Fatalf("want one exec-form ENTRYPOINT: %v", e)
	}
	hc := find(final, "HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("want one HEALTHCHECK, got %d", len(hc))
	}
	_, cmd, ok := strings.Cut(hc[0].args, "CMD ")
	var argv []string
	if !ok || json.Unmarshal([]byte(cmd), &argv) != nil {
		t.Fatalf("HEALTHCHECK %q: want the exec form CMD [\"…\"] (the image has no shell)", hc[0].args)
	}
	if len(argv) != 2 || argv[0] != entrypoint[0] || argv[1] != "healthcheck" {
		t.Errorf("HEALTHCHECK runs %v: want [%s healthcheck]", argv, entrypoint[0])
	}
	copied := false
	for _, c := range find(final, "COPY") {
		copied = copied || strings.HasSuffix(c.args, " "+entrypoint[0])
	}
	if !copied {
		t.Errorf("the final stage does not COPY %s", entrypoint[0])
	}

	env := map[string]string{}
	for _, e := range find(final, "ENV") {
		for _, f := range shellFields(e.args) {
			k, v, _ := strings.Cut(f, "=")
			env[k] = v
		}
	}
	if !strings.HasPrefix(env["SCIMFORGE_LISTEN"], "0.0.0.0:") {
		t.Errorf("SCIMFORGE_LISTEN=%q: a container must listen on every interface", env["SCIMFORGE_LISTEN"])
	}
	port := strings.TrimPrefix(env["SCIMFORGE_LISTEN"], "0.0.0.0:")
	if e := find(final, "EXPOSE"); len(e) != 1 || e[0].args != port {
		t.Errorf("EXPOSE %v: want %s", e, port)
	}
	v := find(final, "VOLUME")
	if len(v) != 1 || !strings.HasPrefix(env["SCIMFORGE_DATABASE_URL"], "sqlite://"+v[0].args+"/") {
		t.Errorf("the SQLite database (%s) is not on the VOLUME %v", env["SCIMFORGE_DATABASE_URL"], v)
	}

	// The build command, as the Dockerfile writes it.
	var build []string
	for _, st := range stages[:len(stages)-1] {
		for _, in := range find(st, "RUN") {
			if i := strings.Index(in.args, "go build"); i >= 0 {
				f := shellFields(in.args)
				for j, w := range f {
					if w == "go" && j+1 < len(f) && f[j+1] == "build" {
						build = f
						for k := j - 1; k >= 0 && strings.Contains(f[k], "="); k-- {
							build = f[k:]
						}
						break
					}
				}
			}
		}
	}
	line := strings.Join(build, " ")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", " -o "} {
		if !strings.Contains(line, want) {
			t.Fatalf("the go build command %q lacks %q", line, want)
		}
	}
	out := filepath.Join(t.TempDir(), "scimforge")
	var envv, args []string
	for i := 0; i < len(build); i++ {
		w := strings.ReplaceAll(build[i], "${VERSION}", "v0.0.0-dockerfile-test")
		switch {
		case len(args) == 0 && strings.Contains(w, "=") && w != "go":
			envv = append(envv, w)
		case w == "-o":
			args = append(args, "-o", out)
			i++
		default:
			args = append(args, w)
		}
	}
	c := exec.Command(args[0], args[1:]...)
	c.Dir = ".."
	c.Env = append(os.Environ(), envv...)
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", c.Args, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs %v", libs)
	}
	if got, err := exec.Command(out, "version").Output(); err != nil || !strings.HasPrefix(string(got), "scimforge v0.0.0-dockerfile-test ") {
		t.Errorf("version: %q %v", got, err)
	}
}

// TestDockerignore: the build context leaves out what must not reach an
// image layer or the build cache (databases, tokens, git history).
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{".git", "**/*.db", ".scimforge-token", "bin"} {
		if !have[want] {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}

// unit reads deploy/scimforge.service as key → values.
func unit(t *testing.T) map[string][]string {
	b, err := os.ReadFile("scimforge.service")
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		kv[k] = append(kv[k], v)
	}
	return kv
}

// TestSystemdUnit: the example unit has the hardening the README promises,
// its environment file holds only known settings and no secret, and
// systemd-analyze (when installed) accepts it and rates its exposure low.
func TestSystemdUnit(t *testing.T) {
	kv := unit(t)
	for k, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes", "Restart": "on-failure",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "StateDirectory": "scimforge",
		"EnvironmentFile": "/etc/scimforge/scimforge.env", "User": "scimforge",
	} {
		if v := kv[k]; len(v) != 1 || v[0] != want {
			t.Errorf("%s=%v, want %q", k, v, want)
		}
	}
	if ex := kv["ExecStart"]; len(ex) != 1 || !strings.HasSuffix(ex[0], "scimforge serve") {
		t.Errorf("ExecStart=%v", ex)
	}

	// The environment file must pass as a configuration file too (the
	// admin commands read it through SCIMFORGE_CONFIG_FILE).
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SCIMFORGE_") {
			t.Setenv(k, "")
		}
	}
	env, err := os.ReadFile("scimforge.env")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "scimforge.env")
	// Its TLS files do not exist here; Load does not open them.
	os.WriteFile(conf, env, 0o600)
	c, err := config.Load([]string{"-config", conf})
	if err != nil {
		t.Fatalf("deploy/scimforge.env as a configuration file: %v", err)
	}
	if c.Listen != "0.0.0.0:8443" || c.DatabaseURL != "sqlite:///var/lib/scimforge/scimforge.db" {
		t.Errorf("scimforge.env: %+v", c)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd): the unit was checked by the rules above only")
	}
	// verify wants ExecStart's binary to exist: the unit's copy runs a
	// stand-in.
	dir = t.TempDir()
	stand := filepath.Join(dir, "scimforge")
	if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("scimforge.service")
	unitPath := filepath.Join(dir, "scimforge.service")
	if err := os.WriteFile(unitPath, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/scimforge ", stand+" ")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unitPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", unitPath).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for scimforge.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 2.0 {
		t.Errorf("exposure %s, want 2.0 or less (OK):\n%s", m[1], out)
	}
	t.Logf("systemd-analyze security: exposure %s", m[1])
}
