package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/tenant"
)

// rateKeys bounds the token buckets kept. A bucket that falls out of the
// LRU is, when used again, a full one: only a client that was idle longest
// gains, and only when more than this many tenant/credential pairs were
// active since. (A plain LRU rather than an expirable one: the latter runs
// a goroutine per cache that can never be stopped.)
const rateKeys = 1 << 16

// buckets is a token bucket per key, the most recently used size of them
// kept; RateLimiter and FailureLimiter both count in one.
type buckets struct {
	mu    sync.Mutex
	c     *lru.Cache[string, *rate.Limiter]
	every rate.Limit
	burst int
}

func newBuckets(size int, every rate.Limit, burst int) *buckets {
	c, _ := lru.New[string, *rate.Limiter](size) // only fails for a size ≤ 0
	return &buckets{c: c, every: every, burst: burst}
}

// get returns key's bucket, a full new one when it has none.
func (b *buckets) get(key string) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.c.Get(key)
	if !ok {
		l = rate.NewLimiter(b.every, b.burst)
		b.c.Add(key, l)
	}
	return l
}

// peek returns key's bucket if it has one, without making it recent.
func (b *buckets) peek(key string) (*rate.Limiter, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.c.Peek(key)
}

// RateLimiter is a token bucket per key: a key may send Burst requests at
// once and Rate a second sustained. Per instance: N instances behind a
// load balancer allow up to N times the rate.
type RateLimiter struct {
	Rate  rate.Limit
	Burst int
	// OnLimited is called for every refused request (metrics).
	OnLimited func()

	buckets *buckets
}

// NewRateLimiter returns a limiter of perSecond requests a second with
// bursts of burst; nil when perSecond is 0 (no limit).
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	burst = max(burst, 1)
	return &RateLimiter{Rate: rate.Limit(perSecond), Burst: burst, buckets: newBuckets(rateKeys, rate.Limit(perSecond), burst)}
}

// Allow takes one request from key's bucket at now; when the bucket is
// empty it takes nothing and returns how long until a request would be
// allowed.
func (l *RateLimiter) Allow(key string, now time.Time) (retryAfter time.Duration, ok bool) {
	b := l.buckets.get(key)
	res := b.ReserveN(now, 1)
	if !res.OK() {
		return time.Second, false
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now) // a refused request does not use up the next token
		return d, false
	}
	return 0, true
}

// RateLimit answers 429 with Retry-After when the request's tenant and
// credential (web.TokenID) have used up their bucket. It runs after
// authentication: an unauthenticated client has no credential to count
// against, and cannot spend a tenant's budget.
func RateLimit(l *RateLimiter, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		name, _ := tenant.From(ctx)
		wait, ok := l.Allow(name+"\x00"+TokenID(ctx), time.Now())
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		if l.OnLimited != nil {
			l.OnLimited()
		}
		secs := retrySeconds(wait)
		e := scimerr.New(http.StatusTooManyRequests, "", "too many requests: this credential may send %s requests a second to this tenant (bursts of %d); retry after %d s", strconv.FormatFloat(float64(l.Rate), 'f', -1, 64), l.Burst, secs)
		e.Header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		scimerr.Write(w, e)
	})
}

// retrySeconds is d rounded up to whole seconds, at least 1 (Retry-After
// has no fractions, and 0 would invite an immediate retry).
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// MaxConcurrent serves at most n requests at once. A request over the cap
// waits up to wait for a slot (a burst that lasts less than that is
// smoothed out, not refused), then gets 503 with Retry-After: 1. Waiting
// longer would only hold the client's connection while its own timeout
// runs; Entra and Okta retry a 503. onReject is called for each refusal.
func MaxConcurrent(n int, wait time.Duration, onReject func(), next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			t := time.NewTimer(wait)
			select {
			case slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				if onReject != nil {
					onReject()
				}
				e := scimerr.New(http.StatusServiceUnavailable, "", "the server is serving %d requests at once, its limit; retry in a second", n)
				e.Header = http.Header{"Retry-After": {"1"}}
				scimerr.Write(w, e)
				return
			case <-r.Context().Done():
				t.Stop()
				return // the client went away while waiting
			}
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

// RequestTimeout gives each request's context a deadline d (0: none), so
// database work still running then is abandoned; ResponseError answers
// what a handler returns for it with 503 (see deadlineError).
func RequestTimeout(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// deadlineError is the answer to a handler error caused by the request's
// deadline (RequestTimeout), or nil for other errors.
func deadlineError(r *http.Request, err error) *scimerr.Error {
	// The driver's error need not wrap the context's (SQLite reports an
	// interrupted statement): the request's own deadline having passed is
	// what decides.
	if err == nil || !errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		return nil
	}
	e := scimerr.New(http.StatusServiceUnavailable, "", "the request took longer than the server allows and was abandoned; retry later")
	e.Header = http.Header{"Retry-After": {"5"}}
	return e
}
