package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// scalePage is the count of the list pages the scale phase times.
	scalePage = 100
	// walkPage is the count of the pages read to reach a cursor deep in
	// the list (attributes=id keeps them small).
	walkPage = 1000
	// probeMin is the fewest requests a probe times, however long they
	// take (within probeMaxFactor × -duration).
	probeMin = 5
	// probeMaxFactor bounds a probe to this many -duration.
	probeMaxFactor = 4
	// probeMaxTimeouts ends a probe after this many timed-out requests.
	probeMaxTimeouts = 2
	// Targets from the issue.
	targetScaleEq   = 1.10 // userName eq p50 at the large size over the small one
	targetDeepPage  = 2.0  // a page deep in the list over the first page
	targetScaleRSS  = 150 << 20
	bulkLoadOps     = 1000 // POSTs per Bulk request with -load-bulk (maxOperations)
	bulkRequestURN  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	scaleCoMaxCount = 10 // count of the co filter requests, as a type-ahead asks
)

// scaleResult is what the scale phase measured.
type scaleResult struct {
	small, large         int     // users in the database at the two points
	loadSmall, loadLarge *result // the creates up to each point
	bulk                 bool    // loadLarge went through POST /Bulk
	sizes                []scaleProbe
	pages                []*result // at the large size
	co                   []*result // at the large size
	walk                 walkResult
	memLoaded, mem       memInfo // right after the large load; after the probes
	coMatches            []matchRange
	loadChunks           []loadPoint
}

// matchRange is the smallest and largest totalResults a probe saw.
type matchRange struct{ lo, hi int }

// record wraps check to note each answer's totalResults in m.
func (m *matchRange) record(check checkFunc) checkFunc {
	m.lo = -1
	return func(status int, body []byte) error {
		if err := check(status, body); err != nil {
			return err
		}
		if n, ok := totalResults(body); ok {
			if m.lo < 0 || n < m.lo {
				m.lo = n
			}
			m.hi = max(m.hi, n)
		}
		return nil
	}
}

// scaleProbe is one figure measured at both sizes.
type scaleProbe struct {
	name         string
	atSmall, atL *result
	target       float64 // largest acceptable p50 ratio, 0: none
}

type walkResult struct {
	rows, pages int
	window      time.Duration
	lat         []time.Duration // per page, in walk order
	err         error
}

// runScale loads the fresh database to -scale-from users, times single
// requests, loads on to -users, times them again, then times pages deep in
// the list against the first page and `co` filters, and reads the
// server's memory. Every probe is one request at a time with a per-request
// timeout: these are latencies, not throughput.
func (b *bench) runScale(ctx context.Context) (*scaleResult, error) {
	s := &scaleResult{bulk: b.o.loadBulk}
	var err error
	if s.loadSmall, err = b.loadN(ctx, b.o.scaleFrom); err != nil {
		return nil, err
	}
	s.small = len(b.users)
	probes := []struct {
		name   string
		next   requestFunc
		check  checkFunc
		target float64
	}{
		{"GET /Users/{id}", b.getRequest(func() string { return b.base }), expectStatus(http.StatusOK), 0},
		{"filter userName eq", b.filterRequest(), checkOneResult, targetScaleEq},
		{fmt.Sprintf("list startIndex=1 count=%d", scalePage), b.listRequest(fmt.Sprintf("startIndex=1&count=%d", scalePage)), expectStatus(http.StatusOK), 0},
	}
	for _, p := range probes {
		s.sizes = append(s.sizes, scaleProbe{name: p.name, target: p.target, atSmall: b.probe(ctx, fmt.Sprintf("%s at %d", p.name, s.small), p.next, p.check)})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}

	more := b.o.users - len(b.users)
	how := "POST /Users"
	if s.bulk {
		how = fmt.Sprintf("POST /Bulk, %d POSTs each", bulkLoadOps)
	}
	b.progress("scale: loading %d more users to %d (%s, %d workers) ...", more, b.o.users, how, b.o.concurrency)
	if s.bulk {
		s.loadLarge = b.createUsersBulk(ctx, b.nextUser, b.nextUser+more)
	} else {
		s.loadLarge = b.createUsers(ctx, b.nextUser, b.nextUser+more)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s.large = len(b.users)
	s.memLoaded = procMem(b.server.cmd.Process.Pid)
	b.progress("scale: %d users (%d created in %s, %.0f/s); %s", s.large, s.loadLarge.ok, s.loadLarge.window.Round(time.Second), s.loadLarge.opsPerSec(), s.memLoaded)
	for i, p := range probes {
		s.sizes[i].atL = b.probe(ctx, fmt.Sprintf("%s at %d", p.name, s.large), p.next, p.check)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}

	// Pages deep in the list against the first page.
	s.pages = append(s.pages, s.sizes[2].atL)
	last := max(1, s.large-scalePage+1)
	s.pages = append(s.pages, b.probe(ctx, fmt.Sprintf("list startIndex=%d count=%d", last, scalePage),
		b.listRequest(fmt.Sprintf("startIndex=%d&count=%d", last, scalePage)), expectStatus(http.StatusOK)))
	s.pages = append(s.pages, b.probe(ctx, fmt.Sprintf("cursor first page count=%d", scalePage),
		b.listRequest(fmt.Sprintf("cursor=&count=%d", scalePage)), expectStatus(http.StatusOK)))
	if c, err := b.firstCursor(ctx); err == nil {
		s.pages = append(s.pages, b.probe(ctx, fmt.Sprintf("cursor page 2 count=%d", scalePage),
			b.listRequest(fmt.Sprintf("cursor=%s&count=%d", url.QueryEscape(c), scalePage)), expectStatus(http.StatusOK)))
	} else if ctx.Err() == nil {
		return nil, fmt.Errorf("scale: the first cursor page: %w", err)
	}
	b.progress("scale: walking the list by cursor (count=%d, attributes=id) to row %d ...", walkPage, s.large-scalePage-walkPage)
	deep := b.walkCursor(ctx, s.large-scalePage, &s.walk)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if s.walk.err != nil {
		return nil, fmt.Errorf("scale: cursor walk: %w", s.walk.err)
	}
	s.pages = append(s.pages, b.probe(ctx, fmt.Sprintf("cursor page at row %d count=%d", s.walk.rows+1, scalePage),
		b.listRequest(fmt.Sprintf("cursor=%s&count=%d", url.QueryEscape(deep), scalePage)), expectStatus(http.StatusOK)))

	// co filters: whatever the server does with them, within the timeout.
	example := b.users[len(b.users)/2]
	for _, c := range []struct {
		attr  string
		value func(u loadedUser) string
	}{
		{"userName", userNumberValue},
		{"emails.value", userNumberValue},
		{"displayName", displayNamePrefix},
	} {
		var m matchRange
		name := fmt.Sprintf(`%s co "%s"`, c.attr, c.value(example))
		s.co = append(s.co, b.probe(ctx, name, b.coRequest(c.attr, c.value), m.record(checkSomeResults)))
		s.coMatches = append(s.coMatches, m) // a copy, after the probe wrote it
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	s.mem = procMem(b.server.cmd.Process.Pid)
	s.loadChunks = b.loadChunks
	return s, nil
}

// loadN creates n measured users after a few unmeasured warm-up creates.
func (b *bench) loadN(ctx context.Context, n int) (*result, error) {
	warm := 2 * b.o.concurrency
	b.progress("loading %d users (POST /Users, %d workers; %d warm-up creates first) ...", n, b.o.concurrency, warm)
	warmRes := b.createUsers(ctx, b.nextUser, b.nextUser+warm)
	b.loadChunks = nil // the rate as the database grows counts measured creates only
	res := b.createUsers(ctx, b.nextUser, b.nextUser+n)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res.errors += warmRes.errors
	res.samples = append(warmRes.samples, res.samples...)
	b.progress("loaded %d of %d users in %s (%.0f/s)", len(b.users), warm+n, res.window.Round(time.Millisecond), res.opsPerSec())
	if len(b.users) == 0 {
		return nil, fmt.Errorf("no user could be created: %s", strings.Join(res.samples, "; "))
	}
	return res, nil
}

// probe times requests from next one at a time: at least one unmeasured
// warm-up request (more until -warmup has passed), then requests until
// both probeMin have succeeded and -duration has passed, or
// probeMaxFactor × -duration, or probeMaxTimeouts requests ran past
// -request-timeout (counted in timeouts, not as errors: a figure, not a
// failure).
func (b *bench) probe(ctx context.Context, name string, next requestFunc, check checkFunc) *result {
	b.progress("%s: one request at a time, %s warm-up + %s", name, b.o.warmup, b.o.duration)
	w := &worker{rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	r := &result{name: name}
	one := func() {
		rctx, cancel := context.WithTimeout(ctx, b.o.reqTimeout)
		defer cancel()
		t0 := time.Now()
		ok := do(rctx, b.client, w, next, check)
		d := time.Since(t0)
		switch {
		case ok:
			w.lat = append(w.lat, d)
		case ctx.Err() == nil && rctx.Err() != nil:
			r.timeouts++
		}
	}
	t0 := time.Now()
	for ctx.Err() == nil && r.timeouts == 0 {
		one()
		if time.Since(t0) >= b.o.warmup {
			break
		}
	}
	w.lat = w.lat[:0]
	meter := cpuMeter{pid: b.server.cmd.Process.Pid}
	meter.begin()
	start := time.Now()
	for ctx.Err() == nil && r.timeouts < probeMaxTimeouts {
		el := time.Since(start)
		if (len(w.lat) >= probeMin && el >= b.o.duration) || el >= probeMaxFactor*b.o.duration {
			break
		}
		one()
	}
	window := time.Since(start)
	meter.end()
	c := collect(name, window, []*worker{w})
	c.timeouts, c.cpu = r.timeouts, meter
	return c
}

// listRequest builds GET /Users?<query>.
func (b *bench) listRequest(query string) requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/Users?"+query, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("Accept", "application/scim+json")
		return req, nil
	}
}

// coRequest builds GET /Users?filter=<attr> co "<value of a random loaded
// user>"&count=scaleCoMaxCount.
func (b *bench) coRequest(attr string, value func(loadedUser) string) requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		u := b.users[w.rng.IntN(len(b.users))]
		q := url.Values{"filter": {attr + ` co "` + value(u) + `"`}, "count": {strconv.Itoa(scaleCoMaxCount)}}
		return b.listRequest(q.Encode())(ctx, w)
	}
}

// userNumberValue is the end of u's login up to the domain: the last
// three letters of the family name, the number and "@contoso"
// ("lace123456@contoso" of Ada.Lovelace123456@contoso.com), a search for
// part of one login that matches that user only (its work email is its
// userName, so it serves emails.value too).
func userNumberValue(u loadedUser) string {
	at := strings.IndexByte(u.userName, '@')
	if at < 0 {
		return u.userName
	}
	i := at
	for i > 0 && u.userName[i-1] >= '0' && u.userName[i-1] <= '9' {
		i--
	}
	return u.userName[max(0, i-3):at] + "@contoso"
}

// displayNamePrefix is "Ada Lov" for Ada Lovelace: what a person types
// into a search box; it matches one given and family name pair (1 in
// 1,024 users).
func displayNamePrefix(u loadedUser) string {
	given, rest, _ := strings.Cut(u.userName, ".")
	family := strings.TrimRight(rest[:max(0, strings.IndexByte(rest, '@'))], "0123456789")
	return given + " " + family[:min(3, len(family))]
}

// checkSomeResults wants 200 with totalResults >= 1 (each co value
// comes from a loaded user).
func checkSomeResults(status int, body []byte) error {
	if status != http.StatusOK {
		return statusError(status, http.StatusOK, body)
	}
	n, ok := totalResults(body)
	if !ok || n < 1 {
		return fmt.Errorf("totalResults %d (present %v), want >= 1", n, ok)
	}
	return nil
}

// listPage is the part of a ListResponse the cursor walk reads.
type listPage struct {
	NextCursor string            `json:"nextCursor"`
	Resources  []json.RawMessage `json:"Resources"`
}

// getPage GETs /Users?<query> within -request-timeout and decodes it.
func (b *bench) getPage(ctx context.Context, query string) (*listPage, error) {
	rctx, cancel := context.WithTimeout(ctx, b.o.reqTimeout)
	defer cancel()
	w := &worker{}
	if !b.send(rctx, w, http.MethodGet, b.base+"/Users?"+query, nil, http.StatusOK) {
		if len(w.samples) > 0 {
			return nil, fmt.Errorf("%s", w.samples[0])
		}
		return nil, fmt.Errorf("GET /Users?%s: %v", query, rctx.Err())
	}
	var p listPage
	if err := json.NewDecoder(bytes.NewReader(w.buf.Bytes())).Decode(&p); err != nil {
		return nil, fmt.Errorf("GET /Users?%s: %v", query, err)
	}
	return &p, nil
}

// firstCursor is the nextCursor of the first cursor page of scalePage.
func (b *bench) firstCursor(ctx context.Context) (string, error) {
	p, err := b.getPage(ctx, fmt.Sprintf("cursor=&count=%d", scalePage))
	if err != nil {
		return "", err
	}
	if p.NextCursor == "" {
		return "", fmt.Errorf("no nextCursor on the first page")
	}
	return p.NextCursor, nil
}

// walkCursor reads the list by cursor pages of walkPage ids while a whole
// page fits before row stop, and returns the cursor of the next page; w
// gets the walk's figures (each page timed).
func (b *bench) walkCursor(ctx context.Context, stop int, wr *walkResult) string {
	cursor := ""
	t0 := time.Now()
	for wr.rows+walkPage <= stop && ctx.Err() == nil {
		start := time.Now()
		p, err := b.getPage(ctx, fmt.Sprintf("cursor=%s&count=%d&attributes=id", url.QueryEscape(cursor), walkPage))
		if err != nil {
			wr.err = err
			break
		}
		wr.lat = append(wr.lat, time.Since(start))
		wr.pages++
		wr.rows += len(p.Resources)
		if p.NextCursor == "" || len(p.Resources) == 0 {
			wr.err = fmt.Errorf("the list ended after %d rows", wr.rows)
			break
		}
		cursor = p.NextCursor
		if wr.pages%200 == 0 {
			b.progress("scale: cursor walk at row %d (last page %s)", wr.rows, fmtDur(wr.lat[len(wr.lat)-1]))
		}
	}
	wr.window = time.Since(t0)
	return cursor
}

// edgeMedians are the median page latencies of the first and the last n
// pages of the walk.
func (wr *walkResult) edgeMedians(n int) (first, last time.Duration) {
	if len(wr.lat) == 0 {
		return 0, 0
	}
	n = min(n, len(wr.lat))
	a := slices.Clone(wr.lat[:n])
	z := slices.Clone(wr.lat[len(wr.lat)-n:])
	slices.Sort(a)
	slices.Sort(z)
	return percentile(a, 0.5), percentile(z, 0.5)
}

// createUsersBulk creates users lo..hi-1 through POST /Bulk requests of
// bulkLoadOps POSTs each, on -concurrency workers; each request counts as
// one operation of the result (its latency is the Bulk request's), ok
// counts users. The bodies are prepared a chunk at a time, as in
// createUsers.
func (b *bench) createUsersBulk(ctx context.Context, lo, hi int) *result {
	var parts []*result
	created := 0
	for from := lo; from < hi && ctx.Err() == nil; from += loadChunk {
		to := min(from+loadChunk, hi)
		before := len(b.users)
		rng := rand.New(rand.NewPCG(1, uint64(from)))
		names := make([]string, to-from)
		reqs := make([][]byte, 0, (to-from+bulkLoadOps-1)/bulkLoadOps)
		for k := from; k < to; k += bulkLoadOps {
			var buf bytes.Buffer
			buf.WriteString(`{"schemas":["` + bulkRequestURN + `"],"Operations":[`)
			for i := k; i < min(k+bulkLoadOps, to); i++ {
				var body []byte
				names[i-from], body = userBody(i, rng)
				if i > k {
					buf.WriteByte(',')
				}
				fmt.Fprintf(&buf, `{"method":"POST","path":"/Users","bulkId":"u%d","data":`, i)
				buf.Write(body)
				buf.WriteByte('}')
			}
			buf.WriteString("]}")
			reqs = append(reqs, buf.Bytes())
		}
		ids := make([]string, to-from)
		r := b.runN(ctx, "create POST /Bulk", len(reqs), func(w *worker, j int) bool {
			if !b.send(ctx, w, http.MethodPost, b.base+"/Bulk", reqs[j], http.StatusOK) {
				return false
			}
			return bulkIDs(w, ids[j*bulkLoadOps:min((j+1)*bulkLoadOps, len(ids))])
		})
		b.nextUser = max(b.nextUser, to)
		n := 0
		for i, id := range ids {
			if id != "" {
				b.users = append(b.users, loadedUser{id: id, userName: names[i]})
				n++
			}
		}
		created += n
		// Rates in users: ok counts users; the latencies stay per request.
		r.ok = n
		parts = append(parts, r)
		b.loadChunks = append(b.loadChunks, loadPoint{before: before, r: r})
		if (to-lo)%(5*loadChunk) == 0 && to < hi {
			m := merge("", parts...)
			b.progress("  %d of %d users created (%.0f/s so far)", to-lo, hi-lo, m.opsPerSec())
		}
	}
	m := merge("create POST /Bulk", parts...)
	m.ok = created
	return m
}

// bulkIDs reads the created ids of a BulkResponse into ids, in order; an
// operation that failed is recorded on w.
func bulkIDs(w *worker, ids []string) bool {
	var resp struct {
		Operations []struct {
			Location string          `json:"location"`
			Status   json.RawMessage `json:"status"`
		} `json:"Operations"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &resp); err != nil {
		w.fail("POST /Bulk: %v", err)
		return false
	}
	if len(resp.Operations) != len(ids) {
		w.fail("POST /Bulk: %d results for %d operations", len(resp.Operations), len(ids))
		return false
	}
	ok := true
	for i, op := range resp.Operations {
		status := strings.Trim(string(op.Status), `"`)
		j := strings.LastIndexByte(op.Location, '/')
		if status != "201" || j < 0 {
			w.fail("POST /Bulk: operation %d: status %s", i, status)
			ok = false
			continue
		}
		ids[i] = op.Location[j+1:]
	}
	return ok
}

// reportScale prints the scale phase: each figure at both sizes, the
// pages deep in the list against the first, the co filters and the
// server's memory, each against its target where the issue sets one.
func (b *bench) reportScale(out io.Writer, s *scaleResult) {
	fmt.Fprintf(out, "\nScale: %d users, then %d, on one database; every figure is single requests one at a time\n", s.small, s.large)
	fmt.Fprintf(out, "  (%s warm-up, then at least %d requests and %s; -request-timeout %s)\n", b.o.warmup, probeMin, b.o.duration, b.o.reqTimeout)
	how := "POST /Users"
	if s.bulk {
		how = fmt.Sprintf("POST /Bulk of %d POSTs (p50 %s per Bulk request)", bulkLoadOps, fmtDur(s.loadLarge.p(0.5)))
	}
	fmt.Fprintf(out, "load: %d users by POST /Users in %s (%.0f/s, %d workers); %d more by %s in %s (%.0f/s)\n",
		s.loadSmall.ok, s.loadSmall.window.Round(100*time.Millisecond), s.loadSmall.opsPerSec(), b.o.concurrency,
		s.loadLarge.ok, how, s.loadLarge.window.Round(time.Second), s.loadLarge.opsPerSec())
	reportLoadCurve(out, s.loadChunks)

	fmt.Fprintf(out, "%-34s %9s %9s %5s | %9s %9s %5s | %7s %8s  %s\n", "figure", "p50 "+kilo(s.small), "p99", "n", "p50 "+kilo(s.large), "p99", "n", "ratio", "target", "result")
	for _, p := range s.sizes {
		a, z := p.atSmall, p.atL
		ratio := 0.0
		if a.p(0.5) > 0 {
			ratio = float64(z.p(0.5)) / float64(a.p(0.5))
		}
		target, res := "", ""
		if p.target > 0 {
			target = fmt.Sprintf("<=%.2fx", p.target)
			res = verdict(ratio > 0 && ratio <= p.target, "PASS", "ABOVE")
		}
		fmt.Fprintf(out, "%-34s %9s %9s %5d | %9s %9s %5d | %6.2fx %8s  %s\n", p.name, fmtDur(a.p(0.5)), fmtDur(a.p(0.99)), a.ok, fmtDur(z.p(0.5)), fmtDur(z.p(0.99)), z.ok, ratio, target, res)
	}

	fmt.Fprintf(out, "\npages at %d users (count=%d, all attributes):\n", s.large, scalePage)
	fmt.Fprintf(out, "%-44s %9s %9s %5s  %-24s %8s  %s\n", "page", "p50", "p99", "n", "vs first page (p50)", "target", "result")
	first := func(i int) time.Duration { return s.pages[i].p(0.5) }
	for i, r := range s.pages {
		cmp, target, res := "", "", ""
		rel := func(j int) float64 {
			if first(j) <= 0 || r.p(0.5) <= 0 {
				return 0
			}
			return float64(r.p(0.5)) / float64(first(j))
		}
		switch {
		case i == 1: // startIndex near the end, against startIndex=1
			x := rel(0)
			cmp, target, res = fmt.Sprintf("%.2fx", x), fmt.Sprintf("<=%.1fx", targetDeepPage), verdict(x > 0 && x <= targetDeepPage, "PASS", "ABOVE")
		case i == len(s.pages)-1 && i >= 3: // the deep cursor page, against the first and second cursor pages
			x, y := rel(2), rel(3)
			cmp = fmt.Sprintf("%.2fx (%.2fx vs page 2)", x, y)
			target, res = fmt.Sprintf("<=%.1fx", targetDeepPage), verdict(x > 0 && x <= targetDeepPage && y <= targetDeepPage, "PASS", "ABOVE")
		}
		name := r.name
		if i == 2 {
			name += " (+totalResults)"
		}
		fmt.Fprintf(out, "%-44s %9s %9s %5d  %-24s %8s  %s\n", name, fmtDur(r.p(0.5)), fmtDur(r.p(0.99)), r.ok, cmp, target, res)
	}
	if w := s.walk; w.pages > 0 {
		f, l := w.edgeMedians(10)
		fmt.Fprintf(out, "cursor walk to get there: %d pages of %d (attributes=id) in %s; median page of the first 10 %s, of the last 10 %s (%.2fx)\n",
			w.pages, walkPage, w.window.Round(100*time.Millisecond), fmtDur(f), fmtDur(l), float64(l)/float64(max(f, 1)))
	}
	fmt.Fprintln(out, "  index pages count totalResults on every page; a cursor page only on the first: page 2 is the like-for-like reference.")

	fmt.Fprintf(out, "\nco filters at %d users (count=%d; each request names a random loaded user; example value shown):\n", s.large, scaleCoMaxCount)
	fmt.Fprintf(out, "%-44s %9s %9s %9s %5s %8s  %s\n", "filter", "p50", "p99", "max", "n", "timeouts", "totalResults")
	for i, r := range s.co {
		m := s.coMatches[i]
		matches := "-"
		if m.lo >= 0 {
			matches = fmt.Sprintf("%d-%d", m.lo, m.hi)
		}
		fmt.Fprintf(out, "%-44s %9s %9s %9s %5d %8d  %s\n", r.name, fmtDur(r.p(0.5)), fmtDur(r.p(0.99)), fmtDur(maxDur(r.lat)), r.ok, r.timeouts, matches)
	}
	fmt.Fprintf(out, "  a timeout is a request still unanswered after %s (the client gives up; the figure is then > %s)\n", b.o.reqTimeout, b.o.reqTimeout)

	fmt.Fprintf(out, "\nscimforge memory at %d users: after the load %s; after the probes %s\n", s.large, s.memLoaded, s.mem)
	if s.mem.ok {
		rss := max(s.mem.rss, s.memLoaded.rss)
		fmt.Fprintf(out, "  resident %s (the larger of the two) against the target < %s: %s", mib(rss), mib(targetScaleRSS), verdict(rss < targetScaleRSS, "PASS", "ABOVE"))
		if s.mem.split {
			fmt.Fprintf(out, "; of it, file pages (SQLite's mmap of the database, reclaimable) %s", mib(s.mem.file))
		}
		fmt.Fprintln(out)
		fmt.Fprintf(out, "  peak VmHWM %s (%s)\n", mib(s.mem.hwm), verdict(s.mem.hwm < targetScaleRSS, "under the target too", "above the target: the peak came during the load or the probes"))
	}
}

func verdict(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
