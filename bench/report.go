package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Targets from the issue: ops/s of the phase over ops/s of the bare handler.
const (
	targetGetByID = 0.7
	targetFilter  = 0.5
)

// row is one line of the report table.
type row struct {
	name           string
	ops            float64
	p50, p99       time.Duration
	errors         int
	srvCPU, cliCPU time.Duration // CPU per request; 0: not measured
	ratio, target  float64       // 0: not applicable
	note           string        // result column when there is no target
	bare           bool          // the bare handler's mean
}

// engineRows computes the report rows of one engine: the create figure,
// each timed phase (ratios against the adjacent bare runs) and the bare
// mean; cpuNotes compares server CPU per request with the bare handler's.
func engineRows(er *engineResult) (rows []row, cpuNotes []string) {
	phases, rs, create := er.phases, er.results, er.create
	mean := func(a ...*result) float64 {
		s := 0.0
		for _, r := range a {
			s += r.opsPerSec()
		}
		return s / float64(len(a))
	}
	meanDur := func(q float64, a ...*result) time.Duration {
		var s time.Duration
		for _, r := range a {
			s += r.p(q)
		}
		return s / time.Duration(len(a))
	}
	ratio := func(r *result, bare float64) float64 {
		if bare == 0 {
			return 0
		}
		return r.opsPerSec() / bare
	}
	cpu := func(server bool, a ...*result) time.Duration {
		var s time.Duration
		for _, r := range a {
			d, ok := r.cpuPerOp(server)
			if !ok {
				return 0
			}
			s += d
		}
		return s / time.Duration(len(a))
	}
	of := func(r *result) row {
		return row{name: r.name, ops: r.opsPerSec(), p50: r.p(0.5), p99: r.p(0.99), errors: r.errors,
			srvCPU: cpu(true, r), cliCPU: cpu(false, r)}
	}
	// neighbours are the bare runs adjacent to phase i (the phases list
	// puts one on each side of every measured phase).
	neighbours := func(i int) []*result {
		var out []*result
		if i > 0 && phases[i-1].bare {
			out = append(out, rs[i-1])
		}
		if i+1 < len(rs) && phases[i+1].bare {
			out = append(out, rs[i+1])
		}
		return out
	}
	var bares []*result
	for i, p := range phases {
		if p.bare {
			bares = append(bares, rs[i])
		}
	}
	if create != nil {
		c := of(create)
		c.name = fmt.Sprintf("create POST /Users (%d)", create.ok+create.errors)
		c.note = "no target"
		if len(rs) > 0 {
			c.ratio = ratio(create, rs[0].opsPerSec())
		}
		rows = append(rows, c)
	}
	for i, p := range phases {
		r := of(rs[i])
		if !p.bare {
			nb := neighbours(i)
			r.ratio, r.target = ratio(rs[i], mean(nb...)), p.target
			if p.target == 0 {
				r.note = "no target"
			}
			if c, bc := cpu(true, rs[i]), cpu(true, nb...); c > 0 && bc > 0 {
				cpuNotes = append(cpuNotes, fmt.Sprintf("%s %.1fx", p.name, float64(c)/float64(bc)))
			}
		}
		rows = append(rows, r)
	}
	if len(bares) > 0 {
		rows = append(rows, row{
			name: fmt.Sprintf("bare (mean of %d)", len(bares)), ops: mean(bares...),
			p50: meanDur(0.5, bares...), p99: meanDur(0.99, bares...),
			errors: sumErrors(bares), srvCPU: cpu(true, bares...), cliCPU: cpu(false, bares...), bare: true,
		})
	}
	return rows, cpuNotes
}

// bareMean is the mean ops/s of the engine's bare runs (0: none).
func (er *engineResult) bareMean() float64 {
	s, n := 0.0, 0
	for i, p := range er.phases {
		if p.bare {
			s += er.results[i].opsPerSec()
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// reportEngine prints what was measured on one engine, as soon as it is
// done, and counts its failed requests.
func (b *bench) reportEngine(er *engineResult) {
	out := b.out
	fmt.Fprintf(out, "\n== %s: %s\n", er.engine, er.db)
	rows, cpuNotes := engineRows(er)
	if er.bodyLen > 0 {
		fmt.Fprintf(out, "bare: this binary re-executed (%s) serving the %d bytes of a real GET /Users/{id} response\n", bareServerCmd, er.bodyLen)
	}
	if len(rows) > 0 {
		writeTable(out, rows)
	}
	if len(cpuNotes) > 0 {
		fmt.Fprintln(out, "server CPU per request against bare: "+strings.Join(cpuNotes, ", "))
	}
	if er.engine == enginePostgres {
		fmt.Fprintln(out, "  (srv cpu is the scimforge process only; PostgreSQL's own processes are not counted)")
	}
	if er.create != nil {
		reportLoadCurve(out, er.loadChunks)
	}
	if er.sync != nil {
		b.reportSync(out, er.sync, er.bareMean())
	}
	if er.growth != nil {
		b.reportGrowth(out, er.growth)
	}
	if er.scale != nil {
		b.reportScale(out, er.scale)
	} else {
		fmt.Fprintf(out, "scimforge memory at the end: %s%s\n", er.mem, pgMemNote(er.engine))
	}

	all := slices.Clone(er.results)
	if er.create != nil {
		all = append([]*result{er.create}, all...)
	}
	if s := er.sync; s != nil {
		for _, r := range []*result{s.users, s.groups, s.patches} {
			if r != nil {
				all = append(all, r)
			}
		}
	}
	if g := er.growth; g != nil && g.load != nil {
		all = append(all, g.load)
	}
	if s := er.scale; s != nil {
		all = append(all, s.loadSmall, s.loadLarge)
		for _, p := range s.sizes {
			all = append(all, p.atSmall, p.atL)
		}
		all = append(all, s.pages[1:]...) // pages[0] is the large startIndex=1 probe, already in sizes
		all = append(all, s.co...)
	}
	for _, r := range all {
		if r == nil {
			continue
		}
		b.requestErrors += r.errors
		if r.errors > 0 {
			fmt.Fprintf(out, "\nERRORS (%s) in %s: %d request(s) failed, e.g.:\n", er.engine, r.name, r.errors)
			for _, s := range r.samples {
				fmt.Fprintf(out, "  %s\n", s)
			}
		}
	}
	if g := er.growth; g != nil && g.errors > 0 {
		b.requestErrors += g.errors
		fmt.Fprintf(out, "\nERRORS (%s) in the group growth: %d request(s) failed, e.g.:\n", er.engine, g.errors)
		for _, s := range g.samples {
			fmt.Fprintf(out, "  %s\n", s)
		}
	}
}

func pgMemNote(engine string) string {
	if engine == enginePostgres {
		return " (the scimforge process; PostgreSQL's memory is separate)"
	}
	return ""
}

// reportLoadCurve prints the create rate as the database grew, by blocks
// of about a tenth of the load, when the load was long enough to show it.
func reportLoadCurve(out io.Writer, chunks []loadPoint) {
	if len(chunks) < 5 {
		return
	}
	per := max(1, len(chunks)/10)
	var parts []string
	for i := 0; i < len(chunks); i += per {
		j := min(i+per, len(chunks))
		var rs []*result
		for _, c := range chunks[i:j] {
			rs = append(rs, c.r)
		}
		m := merge("", rs...)
		parts = append(parts, fmt.Sprintf("%s-%s %.0f/s", kilo(chunks[i].before), kilo(chunks[i].before+m.ok), m.opsPerSec()))
	}
	fmt.Fprintf(out, "create rate as the database grew (users before-after: creates/s): %s\n", strings.Join(parts, ", "))
}

// kilo prints a count of users briefly: 20000 as 20k, 10016 as 10k,
// 1000016 as 1.0M.
func kilo(n int) string {
	switch {
	case n >= 1000000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	case n >= 1000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// reportSummary prints the engines side by side (when more than one was
// measured), the notes, and the run's total time.
func (b *bench) reportSummary() {
	out := b.out
	timed := false
	for _, er := range b.engines {
		timed = timed || len(er.phases) > 0 || er.create != nil
	}
	if len(b.engines) > 1 && timed {
		fmt.Fprintln(out)
		writeSideBySide(out, b.engines)
	}
	fmt.Fprintln(out)
	notes := []string{
		"vs bare: ops/s of the phase / ops/s of the bare handler, against the mean of the two bare runs adjacent",
		"  to the phase; create against bare #1, for information only (a write is not comparable with a static GET).",
		"srv cpu/op, cli cpu/op: user+sys CPU time per request of the serving process (scimforge or bare) and",
		"  of this client, from /proc; much less sensitive than ops/s to other load on the machine.",
	}
	if len(b.engines) > 1 {
		notes = append(notes,
			"Each engine runs on its own fresh database, one after the other; nothing of one engine runs during",
			"  another's phases. The bare handler is restarted for each engine with that engine's GET answer.")
	}
	if slices.Contains(b.o.engines, enginePostgres) {
		notes = append(notes,
			"PostgreSQL is a throwaway server on loopback (internal/pgtest) with fsync, synchronous_commit and",
			"  full_page_writes off; SQLite runs with the server's own settings (WAL, synchronous=NORMAL). Its",
			"  processes share the 2 CPUs with scimforge and the client, and their memory is not in the RSS figure.")
	}
	if !b.o.phases.sync && !b.o.phases.scale {
		notes = append(notes,
			fmt.Sprintf("create: %d Entra ID-like users (userName, name, work email primary, active, externalId, enterprise", b.o.users),
			"  employeeNumber, ...) after a short unmeasured warm-up, each request timed end to end. No password:",
			"  Entra ID never sends one, and hashing it (bcrypt) would dominate the figure.")
	}
	if b.o.phases.read || b.o.phases.patch {
		notes = append(notes, fmt.Sprintf("timed phases: %d workers, %s warm-up + %s each, random ids / userNames among the loaded users;", b.o.concurrency, b.o.warmup, b.o.duration))
	}
	if b.o.phases.read {
		notes = append(notes, "  the case of each filter value is mixed at random, and each answer must have totalResults 1.")
	}
	if b.o.phases.patch {
		notes = append(notes,
			`  PATCH active (Entra): {"op":"Replace","path":"active","value":"False"} (or "True"): each request flips`,
			`  the user's state, so every PATCH writes; PATCH displayName: {"op":"replace","path":"displayName",...}`,
			"  with a new random value. Both must answer 204 or 200.",
			fmt.Sprintf(`  PATCH add member: {"op":"add","path":"members","value":[{"value":"<user id>"}]} to one of %d groups`, memberGroups),
			"  (created empty first, unmeasured), a user not yet in it; the groups end with some tens of members each.")
	}
	notes = append(notes,
		"The server writes an access log line per request (to server.log); the bare handler logs nothing.",
		"Client and servers share the machine's CPUs, so each ops/s ratio also carries the client's cost per",
		"  request; absolute figures vary from run to run on a busy machine.",
	)
	for _, n := range notes {
		fmt.Fprintln(out, n)
	}
	if !b.o.phases.sync || !b.o.phases.groups || !b.o.phases.scale {
		fmt.Fprintln(out, "\nLonger phases: make bench-groups (one group grown to 100,000 members), make bench-sync (an Entra-style")
		fmt.Fprintln(out, "  initial sync of 100,000 users and 1,000 groups), make bench-1m (SQLite at 10,000 against 1,000,000 users).")
	}
	if la := loadAvg(); la != "" {
		fmt.Fprintf(out, "load avg after the run: %s; total time %s\n", la, time.Since(b.start).Round(100*time.Millisecond))
	}
}

// writeSideBySide prints one column per engine: ops/s, p50, p99 and the
// ratio to that engine's bare runs for each phase, then the server's RSS.
func writeSideBySide(out io.Writer, ers []*engineResult) {
	type cells map[string]row
	var order []string
	per := make([]cells, len(ers))
	for i, er := range ers {
		rows, _ := engineRows(er)
		per[i] = cells{}
		for _, r := range rows {
			if strings.HasPrefix(r.name, "bare #") {
				continue // the mean row stands for them
			}
			key := r.name
			if r.bare {
				key = "bare (mean)"
			}
			if _, seen := per[i][key]; !seen && !slices.Contains(order, key) {
				order = append(order, key)
			}
			per[i][key] = r
		}
	}
	const cellW = 38
	head1 := fmt.Sprintf("%-28s %-8s", "side by side", "")
	head2 := fmt.Sprintf("%-28s %-8s", "phase", "target")
	for _, er := range ers {
		head1 += " | " + fmt.Sprintf("%-*s", cellW, er.engine)
		head2 += " | " + fmt.Sprintf("%7s %7s %7s %7s %-6s", "req/s", "p50", "p99", "vs bare", "")
	}
	fmt.Fprintln(out, strings.TrimRight(head1, " "))
	fmt.Fprintln(out, strings.TrimRight(head2, " "))
	fmt.Fprintln(out, strings.Repeat("-", len(head2)))
	for _, key := range order {
		target := ""
		line := ""
		for i := range ers {
			r, ok := per[i][key]
			if !ok {
				line += " | " + fmt.Sprintf("%-*s", cellW, "-")
				continue
			}
			if r.target > 0 {
				target = fmt.Sprintf(">=%.2fx", r.target)
			}
			ratio, res := "", ""
			if r.ratio > 0 {
				ratio = fmt.Sprintf("%.2fx", r.ratio)
			}
			if r.target > 0 {
				res = "PASS"
				if r.ratio < r.target {
					res = "BELOW"
				}
			}
			if r.errors > 0 {
				res = "ERRORS"
			}
			line += " | " + fmt.Sprintf("%7.0f %7s %7s %7s %-6s", r.ops, fmtDur(r.p50), fmtDur(r.p99), ratio, res)
		}
		fmt.Fprintln(out, strings.TrimRight(fmt.Sprintf("%-28s %-8s", key, target)+line, " "))
	}
	line := fmt.Sprintf("%-28s %-8s", "scimforge RSS end (peak)", "")
	for _, er := range ers {
		cell := "-"
		if er.mem.ok {
			cell = fmt.Sprintf("%s (peak %s)", mib(er.mem.rss), mib(er.mem.hwm))
		}
		line += " | " + fmt.Sprintf("%-*s", cellW, cell)
	}
	fmt.Fprintln(out, strings.TrimRight(line, " "))
}

func sumErrors(rs []*result) int {
	n := 0
	for _, r := range rs {
		n += r.errors
	}
	return n
}

// reportSync prints the initial sync: each step's rate next to the bare
// handler's, and the wall time against the goal.
func (b *bench) reportSync(out io.Writer, s *syncResult, bare float64) {
	fmt.Fprintf(out, "\nEntra-style initial sync (fresh database, %d workers): %d users, %d groups of %d members\n", b.o.concurrency, b.o.syncUsers, b.o.syncGroups, b.o.syncMembers)
	var rows []row
	for _, r := range []*result{s.users, s.groups, s.patches} {
		if r == nil {
			continue
		}
		x := row{name: r.name, ops: r.opsPerSec(), p50: r.p(0.5), p99: r.p(0.99), errors: r.errors, note: fmt.Sprintf("%d in %s", r.ok, r.window.Round(100*time.Millisecond))}
		x.srvCPU, _ = r.cpuPerOp(true)
		x.cliCPU, _ = r.cpuPerOp(false)
		if bare > 0 {
			x.ratio = r.opsPerSec() / bare
		}
		rows = append(rows, x)
	}
	writeTable(out, rows)
	verdict := "PASS"
	if s.wall > syncGoal {
		verdict = "ABOVE the goal"
	}
	fmt.Fprintf(out, "sync wall time: %s end to end (goal < %s): %s. vs bare: the step's requests/s over the mean bare ops/s.\n", s.wall.Round(100*time.Millisecond), syncGoal, verdict)
}

// reportGrowth prints the add-50 latency curve and the single-member
// operations against the full group.
func (b *bench) reportGrowth(out io.Writer, g *growthResult) {
	fmt.Fprintf(out, "\nGroup growth: one group grown to %d members by %d PATCHes adding %d members each, one at a time (%s)\n",
		b.o.groupSize, g.patches, growthStep, g.window.Round(100*time.Millisecond))
	if g.load != nil {
		fmt.Fprintf(out, "  (%d users created for it first: %.0f/s, p50 %s)\n", g.load.ok, g.load.opsPerSec(), fmtDur(g.load.p(0.5)))
	}
	fmt.Fprintf(out, "%-28s %8s %8s %8s %8s\n", "members before the PATCH", "samples", "p50", "p90", "max")
	first := time.Duration(0)
	for i, p := range g.points {
		label := fmt.Sprintf("%d", p.size)
		if p.size == b.o.groupSize {
			label = fmt.Sprintf("%d (full)", p.size)
		}
		med := percentile(p.lat, 0.5)
		if i == 0 {
			first = med
		}
		bar := ""
		if first > 0 {
			bar = fmt.Sprintf("  %.2fx", float64(med)/float64(first))
		}
		var mx time.Duration
		if len(p.lat) > 0 {
			mx = p.lat[len(p.lat)-1]
		}
		fmt.Fprintf(out, "%-28s %8d %8s %8s %8s%s\n", "add 50 at "+label, len(p.lat), fmtDur(med), fmtDur(percentile(p.lat, 0.9)), fmtDur(mx), bar)
	}
	res := "PASS"
	if r := g.ratio(); r == 0 || r > targetGrowth {
		res = "ABOVE the target"
	}
	fmt.Fprintf(out, "add-50 p50 at %d over p50 at 0: %.2fx (target <= %.1fx): %s\n", b.o.groupSize, g.ratio(), targetGrowth, res)
	fmt.Fprintf(out, "single member against the full group: add p50 %s (max %s), remove members[value eq \"id\"] p50 %s (max %s), %d each\n",
		fmtDur(percentile(g.add1, 0.5)), fmtDur(maxDur(g.add1)), fmtDur(percentile(g.remove1, 0.5)), fmtDur(maxDur(g.remove1)), len(g.add1))
}

func maxDur(sorted []time.Duration) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1]
}

func writeTable(out io.Writer, rows []row) {
	const format = "%-26s %8s %8s %8s %6s %8s %8s %7s %7s  %s"
	line := func(a ...any) string {
		s := strings.TrimRight(fmt.Sprintf(format, a...), " ")
		fmt.Fprintln(out, s)
		return s
	}
	head := line("phase", "ops/s", "p50", "p99", "errors", "srv cpu", "cli cpu", "vs bare", "target", "result")
	line("", "", "", "", "", "/op", "/op", "", "", "")
	fmt.Fprintln(out, strings.Repeat("-", utf8.RuneCountInString(head)+8))
	for _, r := range rows {
		ratio, target, res := "", "", r.note
		if r.ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", r.ratio)
		}
		if r.target > 0 {
			target = fmt.Sprintf(">=%.2fx", r.target)
			if r.ratio >= r.target {
				res = "PASS"
			} else {
				res = "BELOW"
			}
		}
		if r.errors > 0 {
			res = "ERRORS (see below)"
		}
		line(r.name, fmt.Sprintf("%.0f", r.ops), fmtDur(r.p50), fmtDur(r.p99),
			fmt.Sprint(r.errors), fmtDur(r.srvCPU), fmtDur(r.cliCPU), ratio, target, res)
	}
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
