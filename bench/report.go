package main

import (
	"fmt"
	"io"
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
}

func (b *bench) report(create *result, rs []*result) {
	bare1, get, bare2, filter, bare3 := rs[0], rs[1], rs[2], rs[3], rs[4]
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
	rows := []row{}
	c := of(create)
	c.name = fmt.Sprintf("create POST /Users (%d)", create.ok+create.errors)
	c.ratio, c.note = ratio(create, bare1.opsPerSec()), "no target"
	rows = append(rows, c, of(bare1))
	g := of(get)
	g.ratio, g.target = ratio(get, mean(bare1, bare2)), targetGetByID
	rows = append(rows, g, of(bare2))
	f := of(filter)
	f.ratio, f.target = ratio(filter, mean(bare2, bare3)), targetFilter
	rows = append(rows, f, of(bare3))
	rows = append(rows, row{
		name: "bare (mean of 3)", ops: mean(bare1, bare2, bare3),
		p50: meanDur(0.5, bare1, bare2, bare3), p99: meanDur(0.99, bare1, bare2, bare3),
		errors: bare1.errors + bare2.errors + bare3.errors,
		srvCPU: cpu(true, bare1, bare2, bare3), cliCPU: cpu(false, bare1, bare2, bare3),
	})

	out := b.out
	fmt.Fprintln(out)
	writeTable(out, rows)
	fmt.Fprintln(out)
	notes := []string{
		"vs bare: ops/s of the phase / ops/s of the bare handler: GET by id against the mean of bare #1 and #2,",
		"  filter against the mean of bare #2 and #3 (the runs adjacent to each); create against bare #1, for",
		"  information only (a write is not comparable with a static GET).",
		"srv cpu/op, cli cpu/op: user+sys CPU time per request of the serving process (scimforge or bare) and",
		"  of this client, from /proc; much less sensitive than ops/s to other load on the machine.",
	}
	if g, f, b12, b23 := cpu(true, get), cpu(true, filter), cpu(true, bare1, bare2), cpu(true, bare2, bare3); g > 0 && f > 0 && b12 > 0 && b23 > 0 {
		notes = append(notes, fmt.Sprintf("  Server CPU per request against bare: GET by id %.1fx, filter %.1fx.", float64(g)/float64(b12), float64(f)/float64(b23)))
	}
	notes = append(notes,
		fmt.Sprintf("create: %d Entra ID-like users (userName, name, work email primary, active, externalId, enterprise", create.ok+create.errors),
		"  employeeNumber, ...) after a short unmeasured warm-up, each request timed end to end. No password:",
		"  Entra ID never sends one, and hashing it (bcrypt) would dominate the figure.",
		fmt.Sprintf("reads: %d workers, %s warm-up + %s per phase, random ids / userNames among the %d loaded users;", b.o.concurrency, b.o.warmup, b.o.duration, len(b.users)),
		"  the case of each filter value is mixed at random, and each answer must have totalResults 1.",
		"The server writes an access log line per request (to server.log); the bare handler logs nothing.",
		"Client and servers share the machine's CPUs, so each ops/s ratio also carries the client's cost per",
		"  request; absolute figures vary from run to run on a busy machine.",
	)
	for _, n := range notes {
		fmt.Fprintln(out, n)
	}
	if la := loadAvg(); la != "" {
		fmt.Fprintf(out, "load avg after the run: %s; total time %s\n", la, time.Since(b.start).Round(100*time.Millisecond))
	}

	all := append([]*result{create}, rs...)
	for _, r := range all {
		b.requestErrors += r.errors
		if r.errors > 0 {
			fmt.Fprintf(out, "\nERRORS in %s: %d request(s) failed, e.g.:\n", r.name, r.errors)
			for _, s := range r.samples {
				fmt.Fprintf(out, "  %s\n", s)
			}
		}
	}
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
