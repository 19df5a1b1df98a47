package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets from the issue: ops/s of the phase over ops/s of the bare handler.
const (
	targetGetByID = 0.7
	targetFilter  = 0.5
)

// row is one line of the report table.
type row struct {
	name          string
	ops           float64
	p50, p99      time.Duration
	errors        int
	ratio, target float64 // 0: not applicable
	note          string  // result column when there is no target
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
	of := func(r *result) row {
		return row{name: r.name, ops: r.opsPerSec(), p50: r.p(0.5), p99: r.p(0.99), errors: r.errors}
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
	})

	out := b.out
	writeTable(out, rows)
	fmt.Fprintln(out)
	fmt.Fprintln(out, "ratio = ops/s of the phase / ops/s of bare: GET by id against the mean of bare #1 and #2,")
	fmt.Fprintln(out, "filter against the mean of bare #2 and #3 (the runs adjacent to each); create against bare #1,")
	fmt.Fprintln(out, "for information only (a write is not comparable with a static GET).")
	fmt.Fprintf(out, "create: %d Entra ID-like users (userName, name, work email, active, externalId, enterprise\n", create.ok+create.errors)
	fmt.Fprintln(out, "employeeNumber, ...), measured after a short unmeasured warm-up, each request timed end to end.")
	fmt.Fprintln(out, "No password attribute: Entra ID never sends one, and its bcrypt hash would dominate the figure.")
	fmt.Fprintf(out, "reads: %d workers for %s after %s warm-up per phase, random ids / userNames among %d loaded users;\n",
		b.o.concurrency, b.o.duration, b.o.warmup, len(b.users))
	fmt.Fprintln(out, "filter values have their case mixed at random, and each answer must have totalResults 1.")
	fmt.Fprintln(out, "The server logs every request (access log to server.log); the bare handler logs nothing.")
	fmt.Fprintln(out, "Client and both servers share the machine's CPUs: absolute figures are lower than on a")
	fmt.Fprintln(out, "dedicated client, and vary run to run on a noisy machine; the ratios are the figures to compare.")
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
	const format = "%-28s %10s %9s %9s %7s %8s %8s  %s\n"
	fmt.Fprintf(out, format, "phase", "ops/s", "p50", "p99", "errors", "vs bare", "target", "result")
	fmt.Fprintln(out, strings.Repeat("-", 96))
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
		fmt.Fprintf(out, format, r.name, fmt.Sprintf("%.0f", r.ops), fmtDur(r.p50), fmtDur(r.p99),
			fmt.Sprint(r.errors), ratio, target, res)
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
