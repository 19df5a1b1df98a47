package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
)

// Group commit. SQLite has one writer, and most of a small write's cost is
// per transaction, not per row: the commit writes every page the
// transaction touched to the WAL (with a dozen indexes, a one-row insert
// touches a dozen pages), and many of those pages are the same from one
// create to the next (the rightmost leaf of each index, the table's last
// page). So write transactions that arrive while another is running are
// queued, and the next batch runs them one after another inside ONE
// database transaction, each in a SAVEPOINT of its own:
//
//   - a job that fails (a uniqueness conflict, a hook error, a panic) is
//     rolled back to its savepoint; the other jobs of the batch are not
//     affected, and the caller gets its own error;
//   - nobody is answered before the COMMIT of its batch has returned, so a
//     success still means "committed" with the configured synchronous
//     setting, exactly as with one transaction per request;
//   - jobs run in arrival order, each sees the writes of those before it,
//     as if they had run one after another (they did).
//
// Under no load a batch is one job and costs what a plain transaction
// costs (no savepoint is needed when the batch has one job). Measured with
// make bench -concurrency 16: see docs/DESIGN.md.

// maxBatch bounds the jobs of one transaction, so that a batch (during which
// reads wait for the single connection) stays short.
const maxBatch = 64

// ErrClosed is returned by RunInTx after Close.
var ErrClosed = errors.New("sqlstore: database closed")

type txJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx bun.Tx) error
	done chan txResult // buffered, one result
}

type txResult struct {
	err      error
	panicked bool
	panicVal any
}

// committer runs queued write transactions in batches on one goroutine.
type committer struct {
	db   *DB
	jobs chan *txJob

	mu     sync.RWMutex // held for reading while sending to jobs
	closed bool
	quit   chan struct{}
	exited chan struct{}
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, jobs: make(chan *txJob, 4*maxBatch), quit: make(chan struct{}), exited: make(chan struct{})}
	go c.loop()
	return c
}

// run queues fn and waits for its batch to commit (or for fn to fail).
func (c *committer) run(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &txJob{ctx: ctx, fn: fn, done: make(chan txResult, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	c.jobs <- j
	c.mu.RUnlock()
	r := <-j.done
	if r.panicked {
		panic(r.panicVal) // on the caller's goroutine, where its recovery is
	}
	return r.err
}

func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.quit)
	<-c.exited
}

func (c *committer) loop() {
	defer close(c.exited)
	batch := make([]*txJob, 0, maxBatch)
	for {
		var first *txJob
		select {
		case first = <-c.jobs:
		case <-c.quit:
			// No sender is left (closed is set under the lock); answer
			// whatever was queued before Close.
			for {
				select {
				case j := <-c.jobs:
					j.done <- txResult{err: ErrClosed}
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		c.runBatch(batch)
	}
}

// runBatch runs the jobs in one transaction and answers each of them.
func (c *committer) runBatch(batch []*txJob) {
	// Jobs whose client has gone away are not started.
	live := batch[:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- txResult{err: err}
			continue
		}
		live = append(live, j)
	}
	c.db.prepareWanted()
	for len(live) > 0 {
		live = c.runTx(live)
	}
}

// runTx runs jobs in one transaction and answers them; it returns the jobs
// it could not run because the transaction itself failed midway (rare: an
// I/O error that rolled back the whole transaction), to be run in another.
func (c *committer) runTx(jobs []*txJob) (rest []*txJob) {
	// The transaction's context is not any request's: one client going
	// away must not roll back the others' work.
	tx, err := c.db.Write.BeginTx(context.Background(), nil)
	if err != nil {
		for _, j := range jobs {
			j.done <- txResult{err: err}
		}
		return nil
	}
	single := len(jobs) == 1
	if !single {
		if err := c.exec(tx, "SAVEPOINT batch"); err != nil {
			_ = tx.Rollback()
			for _, j := range jobs {
				j.done <- txResult{err: err}
			}
			return nil
		}
	}
	results := make([]txResult, len(jobs))
	ok := make([]bool, len(jobs))
	for i, j := range jobs {
		if !single {
			if err := c.exec(tx, "SAVEPOINT job"); err != nil {
				// The transaction is unusable: answer the jobs that ran
				// (they are lost with it) and retry the others.
				_ = tx.Rollback()
				c.failRan(jobs[:i], results, ok, err)
				return jobs[i:]
			}
		}
		res := runJob(j, tx)
		results[i] = res
		if res.err == nil && !res.panicked {
			ok[i] = true
			if !single {
				if err := c.exec(tx, "RELEASE job"); err != nil {
					_ = tx.Rollback()
					c.failRan(jobs[:i+1], results, ok, err)
					return jobs[i+1:]
				}
			}
			continue
		}
		if single {
			_ = tx.Rollback()
			j.done <- res
			return nil
		}
		if err := c.rollbackTo(tx); err != nil {
			// Some errors (disk full, I/O) roll back the whole
			// transaction; then nothing of this batch was kept.
			_ = tx.Rollback()
			c.failRan(jobs[:i+1], results, ok, fmt.Errorf("%w (the transaction was rolled back: %v)", firstErr(res), err))
			return jobs[i+1:]
		}
	}
	err = tx.Commit()
	for i, j := range jobs {
		if ok[i] && err != nil {
			results[i] = txResult{err: err}
		}
		j.done <- results[i]
	}
	return nil
}

// rollbackTo undoes the current job and removes its savepoint.
func (c *committer) rollbackTo(tx bun.Tx) error {
	if err := c.exec(tx, "ROLLBACK TO job"); err != nil {
		return err
	}
	return c.exec(tx, "RELEASE job")
}

// exec runs one of the committer's own statements (prepared, like the
// generated writes).
func (c *committer) exec(tx bun.Tx, query string) error {
	ctx := context.Background()
	var err error
	if st := c.db.writeStmt(query); st != nil {
		_, err = tx.Tx.StmtContext(ctx, st).ExecContext(ctx)
	} else {
		_, err = tx.Tx.ExecContext(ctx, query)
	}
	return err
}

func firstErr(r txResult) error {
	if r.err != nil {
		return r.err
	}
	return fmt.Errorf("panic: %v", r.panicVal)
}

// failRan answers jobs that ran in a transaction that is now gone: those
// that failed on their own keep their own result, the others get err.
func (c *committer) failRan(ran []*txJob, results []txResult, ok []bool, err error) {
	for i, j := range ran {
		if ok[i] {
			j.done <- txResult{err: err}
			continue
		}
		j.done <- results[i]
	}
}

// runJob runs one job's function, turning a panic into a result that the
// caller re-panics on its own goroutine.
func runJob(j *txJob, tx bun.Tx) (res txResult) {
	defer func() {
		if v := recover(); v != nil {
			res = txResult{panicked: true, panicVal: v}
		}
	}()
	// Without cancellation: a cancelled statement interrupts the
	// connection, and SQLite may then roll back the whole transaction,
	// which holds other requests' work. The job is short; it finishes.
	ctx := context.WithoutCancel(j.ctx)
	return txResult{err: j.fn(ctx, tx)}
}
