package main

import (
	"fmt"
	"strings"
)

// phaseSet is what -phases selected. Users are always loaded first (by the
// measured create phase, or by the sync when it runs).
type phaseSet struct {
	read, patch, groups, sync bool
}

// parsePhases reads -phases: a comma-separated list of read, patch,
// groups and sync; "default" is read,patch.
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
		case "":
		default:
			return p, fmt.Errorf("-phases: unknown phase %q (want read, patch, groups, sync or default)", name)
		}
	}
	return p, nil
}

func (p phaseSet) String() string {
	var names []string
	for _, x := range []struct {
		on   bool
		name string
	}{{p.read, "read"}, {p.patch, "patch"}, {p.groups, "groups"}, {p.sync, "sync"}} {
		if x.on {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ",")
}
