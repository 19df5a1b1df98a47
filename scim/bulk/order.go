package bulk

import (
	"container/heap"
	"slices"
)

// order returns the indexes of n operations in processing order: request
// order, except that an operation waits for the operations it depends on
// (deps[i], the POSTs whose bulkIds it references: RFC 7644 §3.7.1 lets a
// reference point at a later operation). Operations in cycle[i] are
// processed without waiting, in request order, so they fail where the
// client expects them; everything reachable from them then waits for them
// as usual (and fails because they did).
func order(deps [][]int, cycle []bool) []int {
	n := len(deps)
	waiting := make([]int, n) // unprocessed dependencies of each operation
	users := make([][]int, n) // operations that depend on each operation
	for i, ds := range deps {
		if cycle[i] {
			continue
		}
		for _, d := range ds {
			waiting[i]++
			users[d] = append(users[d], i)
		}
	}
	ready := &intHeap{}
	for i := range n {
		if waiting[i] == 0 {
			heap.Push(ready, i)
		}
	}
	out := make([]int, 0, n)
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		out = append(out, i)
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	return out
}

// cycles finds the operations that lie on a cycle of references (a strongly
// connected component of more than one operation, or one that references
// itself), with Tarjan's algorithm: comp[i] numbers i's cycle, or is -1.
func cycles(deps [][]int) (comp []int) {
	n := len(deps)
	const unseen = -1
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unseen
	}
	var stack []int
	comp = make([]int, n)
	for i := range comp {
		comp[i] = -1
	}
	next, ncomp := 0, 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range deps[v] {
			if index[w] == unseen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var members []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			members = append(members, w)
			if w == v {
				break
			}
		}
		if len(members) > 1 || slices.Contains(deps[v], v) {
			for _, w := range members {
				comp[w] = ncomp
			}
			ncomp++
		}
	}
	for v := range n {
		if index[v] == unseen {
			visit(v)
		}
	}
	return comp
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
