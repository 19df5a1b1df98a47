package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// syncGoal is the wall time the issue asks an initial sync of 100,000
// users and 1,000 groups of 100 members to stay under on this machine.
const syncGoal = 60 * time.Second

type syncResult struct {
	users, groups, patches *result
	wall                   time.Duration
}

// runSync is an Entra ID-style initial sync on the fresh database: every
// user is created by POST, then every group is created without members
// and given its members by one PATCH (Entra creates groups empty and adds
// members by PATCH). Each step runs on -concurrency workers.
func (b *bench) runSync(ctx context.Context) (*syncResult, error) {
	s := &syncResult{}
	t0 := time.Now()
	b.progress("sync: creating %d users (POST /Users, %d workers) ...", b.o.syncUsers, b.o.concurrency)
	s.users = b.createUsers(ctx, b.nextUser, b.nextUser+b.o.syncUsers)
	s.users.name = "sync: POST /Users"
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(b.users) < b.o.syncMembers || len(b.users) == 0 {
		return nil, fmt.Errorf("sync: only %d users could be created: %v", len(b.users), s.users.samples)
	}
	b.progress("sync: %d users in %s (%.0f/s); creating %d groups ...", s.users.ok, s.users.window.Round(time.Millisecond), s.users.opsPerSec(), b.o.syncGroups)
	gids := make([]string, b.o.syncGroups)
	s.groups = b.runN(ctx, "sync: POST /Groups", b.o.syncGroups, func(w *worker, i int) bool {
		if !b.send(ctx, w, http.MethodPost, b.base+"/Groups", groupBody(fmt.Sprintf("Sync group %04d", i), fmt.Sprintf("sync-%d", i)), http.StatusCreated) {
			return false
		}
		id, ok := createdID(w, "POST /Groups")
		gids[i] = id
		return ok
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	b.progress("sync: %d groups in %s; adding %d members to each (one PATCH per group) ...", s.groups.ok, s.groups.window.Round(time.Millisecond), b.o.syncMembers)
	if b.o.syncMembers > 0 {
		s.patches = b.runN(ctx, fmt.Sprintf("sync: PATCH +%d members", b.o.syncMembers), len(gids), func(w *worker, i int) bool {
			if gids[i] == "" {
				return false // its creation failed and was counted
			}
			rng := rand.New(rand.NewPCG(7, uint64(i)))
			ids := make([]string, 0, b.o.syncMembers)
			picked := make(map[int]bool, b.o.syncMembers)
			for len(ids) < b.o.syncMembers {
				if k := rng.IntN(len(b.users)); !picked[k] {
					picked[k] = true
					ids = append(ids, b.users[k].id)
				}
			}
			return b.send(ctx, w, http.MethodPatch, b.base+"/Groups/"+gids[i], patchBody(addMembersOp(ids)), http.StatusNoContent, http.StatusOK)
		})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	s.wall = time.Since(t0)
	b.progress("sync: done in %s", s.wall.Round(100*time.Millisecond))
	return s, nil
}
