package main

// These tests check the bench's own logic. None of them asserts anything
// about wall-clock time: the machines are small and noisy.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := percentile(d, c.q); got != c.want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile([7], 0.99) = %v, want 7", got)
	}
}

func TestTotalResults(t *testing.T) {
	for body, want := range map[string]int{
		`{"schemas":[],"totalResults":1,"Resources":[]}`:  1,
		`{"totalResults" : 12 ,"x":1}`:                    12,
		`{"schemas":[],"totalResults":0,"Resources":[]}`:  0,
		`{"Resources":[{"totalResults":"x"}]}`:            -1,
		`{"detail":"no"}`:                                 -1,
		`{"totalResults":`:                                -1,
		`{"schemas":[],"totalResults":10,"Resources":[]}`: 10,
	} {
		n, ok := totalResults([]byte(body))
		if want < 0 {
			if ok {
				t.Errorf("totalResults(%s) = %d, ok; want not ok", body, n)
			}
			continue
		}
		if !ok || n != want {
			t.Errorf("totalResults(%s) = %d, %v; want %d", body, n, ok, want)
		}
	}
}

func TestCheckOneResult(t *testing.T) {
	if err := checkOneResult(200, []byte(`{"totalResults":1}`)); err != nil {
		t.Errorf("one result: %v", err)
	}
	if err := checkOneResult(200, []byte(`{"totalResults":0}`)); err == nil {
		t.Error("zero results accepted")
	}
	if err := checkOneResult(500, []byte(`{"totalResults":1}`)); err == nil {
		t.Error("status 500 accepted")
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields: pid (comm) state ppid ... utime(14) stime(15) ...; comm may
	// hold spaces and parentheses.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0"
	d, ok := parseStatCPU([]byte(stat))
	if !ok || d != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s (300 ticks)", d, ok)
	}
	if _, ok := parseStatCPU([]byte("garbage")); ok {
		t.Error("garbage parsed")
	}
	if _, ok := procCPU(0); !ok {
		t.Log("no /proc here: CPU columns print -")
	}
}

func TestUserBody(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for i := range 3000 {
		name, body := userBody(i, rng)
		if seen[strings.ToLower(name)] {
			t.Fatalf("user %d: userName %q repeats (case-insensitively)", i, name)
		}
		seen[strings.ToLower(name)] = true
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		if m["userName"] != name {
			t.Fatalf("user %d: userName %v, want %q", i, m["userName"], name)
		}
		if _, has := m["password"]; has {
			t.Fatalf("user %d: has a password", i)
		}
		if _, has := m[enterpriseUserURN].(map[string]any)["employeeNumber"]; !has {
			t.Fatalf("user %d: no enterprise employeeNumber", i)
		}
		if strings.ContainsAny(name, " \"") {
			t.Fatalf("user %d: userName %q needs quoting in a filter", i, name)
		}
	}
}

func TestMixCase(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := "Ada.Lovelace17@contoso.com"
	changed := false
	for range 20 {
		m := mixCase(s, rng)
		if !strings.EqualFold(m, s) {
			t.Fatalf("mixCase(%q) = %q: not the same letters", s, m)
		}
		changed = changed || m != s
	}
	if !changed {
		t.Errorf("mixCase never changed %q", s)
	}
}

// runTimed must count non-2xx answers as errors and keep samples of them.
func TestRunTimedCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	c := newClient(1)
	next := func(ctx context.Context, w *worker) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
	}
	r := runTimed(context.Background(), c, "t", 0, 1, 0, 100*time.Millisecond, next, expectStatus(http.StatusOK))
	if r.errors == 0 {
		t.Fatalf("no errors counted (ok %d)", r.ok)
	}
	if len(r.samples) == 0 || !strings.Contains(r.samples[0], "status 500") {
		t.Errorf("samples = %q, want a status 500 message", r.samples)
	}
	if r.ok != len(r.lat) {
		t.Errorf("ok %d != %d latencies", r.ok, len(r.lat))
	}
	for i := 1; i < len(r.lat); i++ {
		if r.lat[i] < r.lat[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
}

func TestWriteTableFlagsErrors(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, []row{
		{name: "GET", ops: 100, ratio: 0.8, target: 0.7},
		{name: "filter", ops: 100, ratio: 0.4, target: 0.5},
		{name: "bad", ops: 100, ratio: 0.9, target: 0.5, errors: 3},
	})
	out := b.String()
	for _, want := range []string{"PASS", "BELOW", "ERRORS"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %s:\n%s", want, out)
		}
	}
}

func TestWithoutScimforgeEnv(t *testing.T) {
	got := withoutScimforgeEnv([]string{"PATH=/bin", "SCIMFORGE_ALLOWED_DOMAINS=x.com", "HOME=/root"})
	if strings.Join(got, " ") != "PATH=/bin HOME=/root" {
		t.Errorf("got %q", got)
	}
}

func TestPatchShapes(t *testing.T) {
	if got := string(patchBody(`{"op":"Replace","path":"active","value":"False"}`)); got != `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}` {
		t.Errorf("Entra active PATCH: %s", got)
	}
	if got := addMembersOp([]string{"a", "b"}); got != `{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"}]}` {
		t.Errorf("add members: %s", got)
	}
	if got := removeMemberOp("a-1"); got != `{"op":"remove","path":"members[value eq \"a-1\"]"}` {
		t.Errorf("remove member: %s", got)
	}
	for _, body := range [][]byte{patchBody(addMembersOp([]string{"x"}), removeMemberOp("y")), groupBody("G", "g")} {
		if !json.Valid(body) {
			t.Errorf("invalid JSON: %s", body)
		}
	}
}

func TestPatchActiveFlipsEachTime(t *testing.T) {
	b := &bench{base: "http://127.0.0.1:1/scim/v2", users: []loadedUser{{id: "u1"}}, active: make([]atomic.Uint32, 1)}
	next := b.patchActiveRequest()
	w := &worker{rng: rand.New(rand.NewPCG(1, 1))}
	for i, want := range []string{`"value":"False"`, `"value":"True"`, `"value":"False"`} {
		req, err := next(context.Background(), w)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		if req.Method != http.MethodPatch || req.URL.Path != "/scim/v2/Users/u1" || !strings.Contains(string(body), want) {
			t.Errorf("request %d: %s %s %s, want %s", i, req.Method, req.URL.Path, body, want)
		}
	}
}

func TestParsePhases(t *testing.T) {
	p, err := parsePhases("default")
	if err != nil || !p.read || !p.patch || p.groups || p.sync {
		t.Errorf("default: %+v %v", p, err)
	}
	p, err = parsePhases("groups, SYNC")
	if err != nil || p.read || p.patch || !p.groups || !p.sync || p.String() != "groups,sync" {
		t.Errorf("groups,sync: %+v %v", p, err)
	}
	if _, err := parsePhases("read,bulk"); err == nil {
		t.Error("unknown phase accepted")
	}
}

func TestGrowthSizesAndRatio(t *testing.T) {
	if got := growthSizes(100000); !slices.Equal(got, []int{0, 1000, 10000, 50000, 100000}) {
		t.Errorf("growthSizes(100000) = %v", got)
	}
	if got := growthSizes(2000); !slices.Equal(got, []int{0, 1000, 2000}) {
		t.Errorf("growthSizes(2000) = %v", got)
	}
	g := &growthResult{points: []growthPoint{
		{size: 0, lat: []time.Duration{2 * time.Millisecond, 2 * time.Millisecond, 9 * time.Millisecond}},
		{size: 100000, lat: []time.Duration{2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond}},
	}}
	if r := g.ratio(); r != 1.5 {
		t.Errorf("ratio = %v, want 1.5 (medians 3ms / 2ms)", r)
	}
}

func TestParseEngines(t *testing.T) {
	got, err := parseEngines("sqlite,postgres")
	if err != nil || !slices.Equal(got, []string{"sqlite", "postgres"}) {
		t.Errorf("default: %v %v", got, err)
	}
	got, err = parseEngines(" PG ")
	if err != nil || !slices.Equal(got, []string{"postgres"}) {
		t.Errorf("PG: %v %v", got, err)
	}
	for _, bad := range []string{"", "mysql", "sqlite,sqlite", "postgres,pg"} {
		if _, err := parseEngines(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p, err := parsePhases("scale")
	if err != nil || !p.scale || p.read || p.String() != "scale" {
		t.Errorf("scale: %+v %v", p, err)
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tscimforge\nVmPeak:\t 2000000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   61440 kB\nRssFile:\t   40960 kB\nThreads:\t8\n"
	m := parseStatusMem([]byte(status))
	if !m.ok || !m.split || m.rss != 100<<20 || m.hwm != 150000<<10 || m.anon != 60<<20 || m.file != 40<<20 {
		t.Fatalf("parseStatusMem = %+v", m)
	}
	if s := m.String(); !strings.Contains(s, "VmRSS 100.0 MiB (anon 60.0, file 40.0)") {
		t.Errorf("String() = %q", s)
	}
	if m := parseStatusMem([]byte("VmRSS:\t1 kB\n")); m.ok {
		t.Errorf("no VmHWM, still ok: %+v", m)
	}
	if m := procMem(os.Getpid()); !m.ok {
		t.Log("no /proc here: memory prints as not measured")
	}
}

func TestMerge(t *testing.T) {
	a := &result{name: "x", ok: 2, window: time.Second, lat: []time.Duration{1, 5}, errors: 1, samples: []string{"e1"},
		cpu: cpuMeter{server: 10, client: 4, srvOK: true, cliOK: true}}
	b := &result{name: "x", ok: 1, window: time.Second, lat: []time.Duration{3},
		cpu: cpuMeter{server: 2, client: 2, srvOK: true, cliOK: false}}
	m := merge("all", a, b)
	if m.name != "all" || m.ok != 3 || m.window != 2*time.Second || !slices.Equal(m.lat, []time.Duration{1, 3, 5}) || m.errors != 1 || len(m.samples) != 1 {
		t.Errorf("merge = %+v", m)
	}
	if m.opsPerSec() != 1.5 || m.cpu.server != 12 || !m.cpu.srvOK || m.cpu.cliOK {
		t.Errorf("merge rate %v, cpu %+v", m.opsPerSec(), m.cpu)
	}
}

func TestCoValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i, want := range map[int][2]string{
		3:                    {"ace3@contoso", "Edsger Lov"},   // Edsger.Lovelace3@contoso.com
		123456:               {"son123456@contoso", "Ada Jac"}, // Ada.Jackson123456@contoso.com
		27*32*32 + 32*27 + 1: {"sum28513@contoso", "Alan van"}, // Alan.vanRossum28513@contoso.com, "Alan van Rossum"
	} {
		name, _ := userBody(i, rng)
		u := loadedUser{userName: name}
		if got := userNumberValue(u); got != want[0] {
			t.Errorf("userNumberValue(%s) = %q, want %q", name, got, want[0])
		}
		if got := displayNamePrefix(u); got != want[1] {
			t.Errorf("displayNamePrefix(%s) = %q, want %q", name, got, want[1])
		}
	}
	// Each value must occur in the attribute it filters.
	for i := range 5000 {
		name, body := userBody(i, rng)
		var m struct{ DisplayName string }
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		u := loadedUser{userName: name}
		if !strings.Contains(name, userNumberValue(u)) {
			t.Fatalf("user %d: %q not in %q", i, userNumberValue(u), name)
		}
		if !strings.Contains(m.DisplayName, displayNamePrefix(u)) {
			t.Fatalf("user %d: %q not in displayName %q", i, displayNamePrefix(u), m.DisplayName)
		}
	}
}

// The add-member phase must name a user not yet in the group for as long
// as there are users left.
func TestAddMemberDistinct(t *testing.T) {
	const n = 1000
	b := &bench{base: "http://127.0.0.1:1/scim/v2", groups: []string{"g0", "g1", "g2"}, groupAdds: make([]atomic.Uint32, 3)}
	for i := range n {
		b.users = append(b.users, loadedUser{id: "u" + strconv.Itoa(i)})
	}
	next := b.addMemberRequest()
	w := &worker{rng: rand.New(rand.NewPCG(5, 6))}
	seen := map[string]bool{}
	for range 600 {
		req, err := next(context.Background(), w)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		var p struct {
			Operations []struct {
				Op, Path string
				Value    []struct{ Value string }
			}
		}
		if err := json.Unmarshal(body, &p); err != nil || len(p.Operations) != 1 || p.Operations[0].Op != "add" || p.Operations[0].Path != "members" || len(p.Operations[0].Value) != 1 {
			t.Fatalf("body %s: %v", body, err)
		}
		key := req.URL.Path + " " + p.Operations[0].Value[0].Value
		if seen[key] {
			t.Fatalf("%s added twice", key)
		}
		seen[key] = true
	}
}

func TestBulkIDs(t *testing.T) {
	w := &worker{}
	w.buf.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],"Operations":[` +
		`{"method":"POST","bulkId":"u1","location":"http://h/scim/v2/Users/abc","status":"201"},` +
		`{"method":"POST","bulkId":"u2","status":"409","response":{"detail":"taken"}}]}`)
	ids := make([]string, 2)
	if bulkIDs(w, ids) || ids[0] != "abc" || ids[1] != "" || w.errors != 1 {
		t.Errorf("ids %q, errors %d", ids, w.errors)
	}
}

func TestSideBySide(t *testing.T) {
	mk := func(ops float64) *result {
		r := &result{ok: int(ops), window: time.Second}
		for range int(ops) {
			r.lat = append(r.lat, time.Millisecond)
		}
		return r
	}
	bare := phase{name: "bare", bare: true}
	get := phase{name: "GET /Users/{id}", target: targetGetByID}
	er := func(engine string, getOps float64) *engineResult {
		b1, g, b2 := mk(100), mk(getOps), mk(100)
		b1.name, g.name, b2.name = "bare #1", "GET /Users/{id}", "bare #2"
		return &engineResult{engine: engine, phases: []phase{bare, get, bare}, results: []*result{b1, g, b2},
			mem: memInfo{ok: true, rss: 50 << 20, hwm: 60 << 20}}
	}
	var out bytes.Buffer
	writeSideBySide(&out, []*engineResult{er("sqlite", 80), er("postgres", 20)})
	s := out.String()
	for _, want := range []string{"sqlite", "postgres", "0.80x PASS", "0.20x BELOW", "bare (mean)", "50.0 MiB (peak 60.0 MiB)"} {
		if !strings.Contains(s, want) {
			t.Errorf("side by side lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "bare #") {
		t.Errorf("side by side lists single bare runs:\n%s", s)
	}
}
