package engine

import "sync"

// keyLocks serialises work per key (a resource id) within this process.
// PATCH uses it so that concurrent PATCHes of one resource queue instead of
// racing: each would otherwise read the same version, and all but one
// would lose the versioned write and re-apply, so a burst of N writers
// needs up to N rounds and the retry bound answered some of them 409. The
// version check in the write stays: another process (or a PUT) can still
// race, and is retried as before.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int // goroutines holding or waiting for it
}

// lock locks key and returns its unlock; entries live only while used.
func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
