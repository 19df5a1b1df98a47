package config

// The optional configuration file (-config FILE, SCIMFORGE_CONFIG_FILE) and
// the list of settings, both read from the FlagSet Load builds: every
// setting is a flag whose usage names its variable, "(SCIMFORGE_X…)", so a
// setting added anywhere (auth.go, limits.go, …) is known to the file, to
// docs/configuration.md and to the tests without being listed again.
//
// The file uses the environment's names, one NAME=value a line, the syntax
// systemd's EnvironmentFile and docker run --env-file share, so one file
// can serve all three. Precedence: flags > environment > file > defaults.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// usageEnv finds the variable a flag mirrors: the first "(SCIMFORGE_X" in
// its usage string.
var usageEnv = regexp.MustCompile(`\((SCIMFORGE_[A-Z0-9_]+)`)

// Setting is one configuration setting: a row of docs/configuration.md.
type Setting struct {
	Env     string // SCIMFORGE_LISTEN
	Flag    string // "listen"; empty for a secret, which has no flag
	Default string // the flag's default, "" for none
	Usage   string // the flag's usage string
	// Secret is set for a value read only from the environment or from
	// the file its FileEnv names (SCIMFORGE_TOKEN / SCIMFORGE_TOKEN_FILE).
	Secret  bool
	FileEnv string
}

// settings lists the FlagSet's settings in the order of their variables,
// each secret just before the *_FILE setting that can hold it. A secret is
// recognised by convention: a flag for X_FILE whose usage says "or X",
// where X has no flag of its own.
func settings(fs *flag.FlagSet) ([]Setting, error) {
	var out []Setting
	flags := map[string]bool{}
	var problems []string
	fs.VisitAll(func(f *flag.Flag) {
		m := usageEnv.FindStringSubmatch(f.Usage)
		if m == nil {
			problems = append(problems, fmt.Sprintf("flag -%s: its usage must name its variable as \"(SCIMFORGE_…)\"", f.Name))
			return
		}
		if flags[m[1]] {
			problems = append(problems, fmt.Sprintf("flag -%s: %s is named by another flag too", f.Name, m[1]))
		}
		flags[m[1]] = true
		out = append(out, Setting{Env: m[1], Flag: f.Name, Default: f.DefValue, Usage: f.Usage})
	})
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	for _, s := range out {
		name, ok := strings.CutSuffix(s.Env, "_FILE")
		if !ok || flags[name] || !regexp.MustCompile(`\b`+name+`\b`).MatchString(s.Usage) {
			continue
		}
		out = append(out, Setting{Env: name, Secret: true, FileEnv: s.Env,
			Usage: fmt.Sprintf("what %s holds, given directly: from the environment only (never a flag, nor the configuration file)", s.Env)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out, nil
}

// flagsHook, when set, is given the FlagSet Load built (Settings uses it).
var flagsHook atomic.Pointer[func(*flag.FlagSet)]

var settingsMu sync.Mutex

// Settings returns every setting scimforge serve reads, from the FlagSet
// Load builds. The defaults are the flags' defaults, which Load takes from
// the environment: it fails when a SCIMFORGE_* variable is set, as the
// list would show that value instead of the default.
func Settings() ([]Setting, error) {
	settingsMu.Lock()
	defer settingsMu.Unlock()
	var fs *flag.FlagSet
	hook := func(f *flag.FlagSet) { fs = f }
	flagsHook.Store(&hook)
	defer flagsHook.Store(nil)
	_, _ = Load(nil) // only the flags it registers matter, not whether the environment is valid
	if fs == nil {
		return nil, errors.New("config.Load did not reach its configuration file step")
	}
	list, err := settings(fs)
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if Env(s.Env, "") != "" {
			return nil, fmt.Errorf("%s is set: unset every SCIMFORGE_* variable to list the defaults", s.Env)
		}
	}
	return list, nil
}

// fileState carries what Load took from the configuration file, so that an
// error found later names the file and line of the value it is about.
type fileState struct {
	path    string
	applied []fileEntry
}

type fileEntry struct {
	key, value string
	line       int
}

// apply sets each flag from the file unless the command line or the
// environment already set it.
func (st *fileState) apply(fs *flag.FlagSet, path string) error {
	if h := flagsHook.Load(); h != nil {
		(*h)(fs)
	}
	if path == "" {
		return nil
	}
	st.path = path
	entries, private, err := readFile(path)
	if err != nil {
		return err
	}
	list, err := settings(fs)
	if err != nil {
		return err
	}
	byEnv := map[string]Setting{}
	for _, s := range list {
		byEnv[s.Env] = s
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for _, e := range entries {
		at := fmt.Sprintf("%s:%d", path, e.line)
		s, ok := byEnv[e.key]
		switch {
		case !ok:
			return fmt.Errorf("%s: unknown setting %s%s (the settings are listed in docs/configuration.md)", at, e.key, suggest(e.key, list))
		case s.Secret:
			return fmt.Errorf("%s: %s is a secret and the configuration file may not hold it: write it alone into a file only the server's user can read and set %s to that file's path, or pass %s in the environment", at, e.key, s.FileEnv, e.key)
		case e.key == "SCIMFORGE_CONFIG_FILE":
			return fmt.Errorf("%s: SCIMFORGE_CONFIG_FILE cannot be set in the configuration file", at)
		case !private && hasPassword(e.value):
			return fmt.Errorf("%s: %s holds a password and %s can be read by other users: chmod 600 %s, or leave the password out (for PostgreSQL: PGPASSFILE)", at, e.key, path, path)
		}
		if onCommandLine[s.Flag] || Env(e.key, "") != "" {
			continue // a flag or the environment wins
		}
		if err := fs.Set(s.Flag, e.value); err != nil {
			return fmt.Errorf("%s: %s %q: %v", at, e.key, e.value, err)
		}
		st.applied = append(st.applied, e)
	}
	return nil
}

// annotate adds to an error about a setting that came from the file where
// it was set.
func (st *fileState) annotate(err error) error {
	for _, e := range st.applied {
		if regexp.MustCompile(`\b` + e.key + `\b`).MatchString(err.Error()) {
			return fmt.Errorf("%w (%s is set in %s:%d)", err, e.key, st.path, e.line)
		}
	}
	return err
}

var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`) // "-" and "." only to suggest the right name

// readFile parses NAME=value lines. It accepts the subset of systemd's
// EnvironmentFile syntax that docker --env-file reads the same way, and
// refuses the rest rather than guess: blank lines and comments (# or ;),
// NAME=value with spaces around the value trimmed and one pair of matching
// quotes removed. private says that no one but the owner can read it.
func readFile(path string) (entries []fileEntry, private bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("SCIMFORGE_CONFIG_FILE: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("SCIMFORGE_CONFIG_FILE: %v", err)
	}
	if info.IsDir() {
		return nil, false, fmt.Errorf("SCIMFORGE_CONFIG_FILE: %s is a directory", path)
	}
	private = info.Mode().Perm()&0o077 == 0
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		at := fmt.Sprintf("%s:%d", path, n)
		if strings.HasPrefix(line, "export ") {
			return nil, false, fmt.Errorf("%s: write NAME=value without \"export\" (systemd and docker do not accept it)", at)
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !keyPattern.MatchString(k) {
			return nil, false, fmt.Errorf("%s: want NAME=value, e.g. SCIMFORGE_LISTEN=0.0.0.0:8080", at)
		}
		v = strings.TrimSpace(v)
		if strings.HasSuffix(v, `\`) {
			return nil, false, fmt.Errorf("%s: %s: a value may not end in a backslash (systemd would join the next line to it)", at, k)
		}
		if v != "" && (v[0] == '"' || v[0] == '\'') {
			if len(v) < 2 || v[len(v)-1] != v[0] {
				return nil, false, fmt.Errorf("%s: %s: unbalanced quote", at, k)
			}
			v = v[1 : len(v)-1]
		}
		if first, dup := seen[k]; dup {
			return nil, false, fmt.Errorf("%s: %s is set again (first on line %d)", at, k, first)
		}
		seen[k] = n
		entries = append(entries, fileEntry{key: k, value: v, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("SCIMFORGE_CONFIG_FILE %s: %v", path, err)
	}
	return entries, private, nil
}

// hasPassword says whether a value is a URL with a password in it
// (postgres://user:password@host/db).
func hasPassword(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}

// suggest returns ` (did you mean X?)` for the setting closest to key.
func suggest(key string, list []Setting) string {
	norm := strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
	if !strings.HasPrefix(norm, "SCIMFORGE_") {
		norm = "SCIMFORGE_" + norm
	}
	best, bestD := "", 4
	for _, s := range list {
		if d := distance(norm, s.Env); d < bestD {
			best, bestD = s.Env, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Lookup returns how the commands other than serve (tenant, token,
// backup, …) read a setting: the environment, then the file
// SCIMFORGE_CONFIG_FILE names, then def. Those commands have no flags for
// these settings, so an invalid file is reported by serve, not here.
func Lookup() (func(name, def string) string, error) {
	path := Env("SCIMFORGE_CONFIG_FILE", "")
	var entries []fileEntry
	if path != "" {
		var err error
		if entries, _, err = readFile(path); err != nil {
			return nil, err
		}
	}
	return func(name, def string) string {
		if v := Env(name, ""); v != "" {
			return v
		}
		for _, e := range entries {
			if e.key == name && e.value != "" {
				return e.value
			}
		}
		return def
	}, nil
}

// checkAddresses refuses a listen address, database URL or base URL that
// could only fail later, and less clearly (at listen or open time).
func (c *Config) checkAddresses() error {
	_, port, err := net.SplitHostPort(c.Listen)
	if p, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || (p == 0 && port != "0") {
		return fmt.Errorf("SCIMFORGE_LISTEN %q: want HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080", c.Listen)
	}
	if _, err := sqlstore.ParseURL(c.DatabaseURL); err != nil {
		return fmt.Errorf("SCIMFORGE_DATABASE_URL: %v", err)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(strings.ReplaceAll(c.BaseURL, "{tenant}", "tenant"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("SCIMFORGE_BASE_URL %q: want an absolute URL such as https://scim.example.com/scim/v2", c.BaseURL)
		}
	}
	return nil
}
