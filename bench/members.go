package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// memberGroups is how many groups the add-member phase spreads its PATCHes
// over: more than the workers, so that concurrent PATCHes rarely wait for
// one group's row, as when a provisioning client works through its queue.
const memberGroups = 100

// createMemberGroups creates the add-member phase's groups (unmeasured),
// empty as Entra ID creates them.
func (b *bench) createMemberGroups(ctx context.Context) error {
	b.progress("creating %d groups for the add-member phase ...", memberGroups)
	ids := make([]string, memberGroups)
	r := b.runN(ctx, "POST /Groups", memberGroups, func(w *worker, i int) bool {
		if !b.send(ctx, w, http.MethodPost, b.base+"/Groups", groupBody(fmt.Sprintf("Members %03d", i), fmt.Sprintf("members-%d", i)), http.StatusCreated) {
			return false
		}
		id, ok := createdID(w, "POST /Groups")
		ids[i] = id
		return ok
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if r.errors > 0 {
		return fmt.Errorf("creating the add-member groups: %d failed: %v", r.errors, r.samples)
	}
	b.groups = ids
	b.groupAdds = make([]atomic.Uint32, len(ids))
	b.progress("%d groups in %s", len(ids), r.window.Round(time.Millisecond))
	return nil
}

// addMemberRequest is a PATCH adding one user to a random group of
// b.groups, as Entra ID sends an assignment: {"op":"add","path":"members",
// "value":[{"value":"<id>"}]}. The k-th add to group g adds user g+k*G
// (G groups), a user not yet in the group as long as k*G < users, so
// nearly every PATCH writes a membership row rather than finding it there.
func (b *bench) addMemberRequest() requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		g := w.rng.IntN(len(b.groups))
		k := int(b.groupAdds[g].Add(1) - 1)
		u := b.users[(g+k*len(b.groups))%len(b.users)]
		return b.patchRequest(ctx, "/Groups/"+b.groups[g], patchBody(addMembersOp([]string{u.id})))
	}
}
