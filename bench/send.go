package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// send sends one authenticated SCIM request with a JSON body (or none)
// and reads the answer into w.buf; it reports whether the status is one of
// want (a failure is recorded on w).
func (b *bench) send(ctx context.Context, w *worker, method, url string, body []byte, want ...int) bool {
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, nilIfEmpty(rd))
	if err != nil {
		w.fail("build request: %v", err)
		return false
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.fail("%s %s: %v", method, req.URL.Path, err)
		}
		return false
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		w.fail("%s %s: reading body: %v", method, req.URL.Path, err)
		return false
	}
	if !slices.Contains(want, resp.StatusCode) {
		w.fail("%s %s: %v", method, req.URL.Path, statusError(resp.StatusCode, want[0], w.buf.Bytes()))
		return false
	}
	return true
}

// nilIfEmpty keeps a nil *bytes.Reader from becoming a non-nil io.Reader.
func nilIfEmpty(r *bytes.Reader) interface {
	Read([]byte) (int, error)
} {
	if r == nil {
		return nil
	}
	return r
}

// createdID reads the "id" of a 201 body.
func createdID(w *worker, what string) (string, bool) {
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &created); err != nil || created.ID == "" {
		w.fail("%s: 201 without an id (%v)", what, err)
		return "", false
	}
	return created.ID, true
}

// runN runs op(w, i) for i in 0..n-1 on -concurrency workers, timing each
// successful op, and measures the server's CPU over the whole.
func (b *bench) runN(ctx context.Context, name string, n int, op func(w *worker, i int) bool) *result {
	var next atomic.Int64
	workers := make([]*worker, b.o.concurrency)
	var wg sync.WaitGroup
	meter := cpuMeter{pid: b.server.cmd.Process.Pid}
	meter.begin()
	t0 := time.Now()
	for k := range workers {
		w := &worker{}
		workers[k] = w
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				start := time.Now()
				if op(w, i) {
					w.lat = append(w.lat, time.Since(start))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	meter.end()
	r := collect(name, elapsed, workers)
	r.cpu = meter
	return r
}

// patchOpURN is the schema of a PATCH request body.
const patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

const coreGroupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"

// patchBody wraps operations (JSON objects) in a PatchOp message.
func patchBody(ops ...string) []byte {
	b := []byte(`{"schemas":["` + patchOpURN + `"],"Operations":[`)
	for i, op := range ops {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, op...)
	}
	return append(b, "]}"...)
}

// addMembersOp is {"op":"add","path":"members","value":[{"value":id},…]}.
func addMembersOp(ids []string) string {
	b := []byte(`{"op":"add","path":"members","value":[`)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"value":`...)
		b = appendQuoted(b, id)
		b = append(b, '}')
	}
	return string(append(b, "]}"...))
}

// removeMemberOp is {"op":"remove","path":"members[value eq \"id\"]"}.
func removeMemberOp(id string) string {
	path := fmt.Sprintf(`members[value eq "%s"]`, id)
	return string(appendQuoted([]byte(`{"op":"remove","path":`), path)) + "}"
}

func appendQuoted(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// groupBody is a POST /Groups body without members, as Entra ID sends it.
func groupBody(displayName, externalID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas":     []string{coreGroupURN},
		"displayName": displayName,
		"externalId":  externalID,
	})
	return b
}

// checkPatched accepts what a successful PATCH answers: 204 (no body, the
// default) or 200 with the resource.
func checkPatched(status int, body []byte) error {
	if status != http.StatusNoContent && status != http.StatusOK {
		return statusError(status, http.StatusNoContent, body)
	}
	return nil
}

// patchActiveRequest is Entra ID's disable/enable of a user:
// {"op":"Replace","path":"active","value":"False"} (capitalised op, the
// boolean as a string). Each request flips the user's state, so every
// PATCH is a real change, not a no-op.
func (b *bench) patchActiveRequest() requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		i := w.rng.IntN(len(b.users))
		value := "False" // users are created active
		if b.active[i].Add(1)%2 == 0 {
			value = "True"
		}
		body := patchBody(`{"op":"Replace","path":"active","value":"` + value + `"}`)
		return b.patchRequest(ctx, "/Users/"+b.users[i].id, body)
	}
}

// patchDisplayNameRequest is a plain RFC 7644 replace with a new value.
func (b *bench) patchDisplayNameRequest() requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		u := b.users[w.rng.IntN(len(b.users))]
		body := patchBody(string(appendQuoted([]byte(`{"op":"replace","path":"displayName","value":`), fmt.Sprintf("Renamed %d", w.rng.Uint32()))) + "}")
		return b.patchRequest(ctx, "/Users/"+u.id, body)
	}
}

func (b *bench) patchRequest(ctx context.Context, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, b.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Accept", "application/scim+json")
	return req, nil
}
