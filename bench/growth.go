package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"
)

const (
	// growthStep is how many members each growth PATCH adds.
	growthStep = 50
	// growthSamples is how many add-50 PATCHes are timed at each size.
	growthSamples = 40
	// targetGrowth is the largest acceptable add-50 latency at the full
	// size over the latency on an empty group (from the issue).
	targetGrowth = 1.2
	// singleSamples is how many single-member adds and removes are timed
	// against the full group.
	singleSamples = 20
)

// growthPoint is the add-50 latency measured at one group size.
type growthPoint struct {
	size int
	lat  []time.Duration // sorted
}

type growthResult struct {
	load          *result // users created for the phase, if any
	points        []growthPoint
	add1, remove1 []time.Duration // sorted
	patches       int
	window        time.Duration
	errors        int
	samples       []string
	finalSize     int
}

// growthSizes are the sizes the curve is printed at (up to -group-size).
func growthSizes(full int) []int {
	var out []int
	for _, s := range []int{0, 1000, 10000, 50000} {
		if s < full {
			out = append(out, s)
		}
	}
	return append(out, full)
}

// runGrowth grows one group to -group-size members, growthStep members per
// PATCH, one PATCH at a time (a client does not send concurrent PATCHes to
// one group), timing growthSamples PATCHes from each size of growthSizes;
// the last size is measured with growthSamples more PATCHes past the full
// size. Then single-member adds and removes against the full group.
func (b *bench) runGrowth(ctx context.Context) (*growthResult, error) {
	full := b.o.groupSize
	need := full + growthSamples*growthStep + 1
	g := &growthResult{}
	if missing := need - len(b.users); missing > 0 {
		b.progress("groups: creating %d more users (POST /Users, %d workers) ...", missing, b.o.concurrency)
		g.load = b.createUsers(ctx, b.nextUser, b.nextUser+missing)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		b.progress("groups: %d users in %s (%.0f/s)", g.load.ok, g.load.window.Round(time.Millisecond), g.load.opsPerSec())
		if len(b.users) < need {
			return nil, fmt.Errorf("groups: only %d users could be created, %d needed: %v", len(b.users), need, g.load.samples)
		}
	}
	w := &worker{}
	if !b.send(ctx, w, http.MethodPost, b.base+"/Groups", groupBody("Growth", "growth"), http.StatusCreated) {
		return nil, fmt.Errorf("groups: creating the group: %v", w.samples)
	}
	gid, ok := createdID(w, "POST /Groups")
	if !ok {
		return nil, fmt.Errorf("groups: %v", w.samples)
	}
	gURL := b.base + "/Groups/" + gid
	sizes := growthSizes(full)
	lat := make(map[int][]time.Duration, len(sizes))
	ids := make([]string, growthStep)
	b.progress("groups: growing one group to %d members, %d per PATCH ...", full, growthStep)
	t0 := time.Now()
	size := 0
	for size < full+growthSamples*growthStep {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for k := range ids {
			ids[k] = b.users[size+k].id
		}
		body := patchBody(addMembersOp(ids))
		start := time.Now()
		ok := b.send(ctx, w, http.MethodPatch, gURL, body, http.StatusNoContent, http.StatusOK)
		d := time.Since(start)
		g.patches++
		if ok {
			for _, s := range sizes {
				if size >= s && size < s+growthSamples*growthStep {
					lat[s] = append(lat[s], d)
				}
			}
		}
		size += growthStep
		if size%10000 == 0 {
			b.progress("groups: %d members (last add-%d PATCH %s)", size, growthStep, fmtDur(d))
		}
	}
	g.window = time.Since(t0)
	g.finalSize = size
	for _, s := range sizes {
		l := lat[s]
		slices.Sort(l)
		g.points = append(g.points, growthPoint{size: s, lat: l})
	}
	// Single-member add and remove against the full group, alternately,
	// with a user that is not a member yet.
	extra := b.users[size].id
	for range singleSamples {
		start := time.Now()
		if b.send(ctx, w, http.MethodPatch, gURL, patchBody(addMembersOp([]string{extra})), http.StatusNoContent, http.StatusOK) {
			g.add1 = append(g.add1, time.Since(start))
		}
		start = time.Now()
		if b.send(ctx, w, http.MethodPatch, gURL, patchBody(removeMemberOp(extra)), http.StatusNoContent, http.StatusOK) {
			g.remove1 = append(g.remove1, time.Since(start))
		}
	}
	slices.Sort(g.add1)
	slices.Sort(g.remove1)
	g.errors, g.samples = w.errors, w.samples
	return g, nil
}

// ratio is the median add-50 latency at the full size over that at 0.
func (g *growthResult) ratio() float64 {
	if len(g.points) < 2 {
		return 0
	}
	first, last := percentile(g.points[0].lat, 0.5), percentile(g.points[len(g.points)-1].lat, 0.5)
	if first <= 0 {
		return 0
	}
	return float64(last) / float64(first)
}
