package main

import (
	"fmt"
	"slices"
	"strings"
)

// phaseSet is what -phases selected. Users are always loaded first (by the
// measured create phase, or by the sync or the scale phase when it runs).
type phaseSet struct {
	read, patch, groups, sync, scale bool
}

// parsePhases reads -phases: a comma-separated list of read, patch,
// groups, sync and scale; "default" is read,patch.
func parsePhases(s string) (phaseSet, error) {
	var p phaseSet
	for _, name := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "default":
			p.read, p.patch = true, true
		case "read":
			p.read = true
		case "patch":
			p.patch = true
		case "groups":
			p.groups = true
		case "sync":
			p.sync = true
		case "scale":
			p.scale = true
		case "":
		default:
			return p, fmt.Errorf("-phases: unknown phase %q (want read, patch, groups, sync, scale or default)", name)
		}
	}
	return p, nil
}

func (p phaseSet) String() string {
	var names []string
	for _, x := range []struct {
		on   bool
		name string
	}{{p.read, "read"}, {p.patch, "patch"}, {p.groups, "groups"}, {p.sync, "sync"}, {p.scale, "scale"}} {
		if x.on {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ",")
}

// Storage engines -engines can name.
const (
	engineSQLite   = "sqlite"
	enginePostgres = "postgres"
)

// parseEngines reads -engines: sqlite and/or postgres, comma-separated,
// measured in the order given; each at most once.
func parseEngines(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "":
			continue
		case "postgresql", "pg":
			name = enginePostgres
		case engineSQLite, enginePostgres:
		default:
			return nil, fmt.Errorf("-engines: unknown engine %q (want sqlite, postgres)", name)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("-engines: %s named twice", name)
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-engines: name at least one of sqlite, postgres")
	}
	return out, nil
}
