package sqlstore

import "time"

// Timing is told how long the store's work took: op "read" for each
// Query/QueryRow (until the first row is available), "transaction" for
// each RunInTx (from the call until its commit returned, so the wait for
// a group commit batch or a retry is included).
type Timing func(op string, d time.Duration)

// SetTiming installs t (nil removes it); metrics use it.
func (db *DB) SetTiming(t Timing) {
	if t == nil {
		db.timing.Store(nil)
		return
	}
	db.timing.Store(&t)
}

// timed returns the function that reports op's duration since now, or nil
// when nobody listens.
func (db *DB) timed(op string) func() {
	t := db.timing.Load()
	if t == nil {
		return nil
	}
	start := time.Now()
	return func() { (*t)(op, time.Since(start)) }
}
