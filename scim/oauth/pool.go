package oauth

import (
	"container/list"
	"sync"
)

// DefaultPoolSize is how many key sets a Pool keeps by default.
const DefaultPoolSize = 1024

// Pool holds one KeySet per JWKS URL, made on first use (nothing is
// fetched for a URL no token has needed) and shared by every issuer with
// that URL, so tenants whose issuers publish their keys at one URL share
// one cache and one fetch schedule. At most Size key sets are kept; the
// least recently used goes first, and is fetched again if it is needed
// again. It is safe for concurrent use and has no goroutine to stop.
type Pool struct {
	base Config
	size int

	mu    sync.Mutex
	order *list.List // of *poolEntry, most recently used first
	byURL map[string]*list.Element
}

type poolEntry struct {
	url  string
	keys *KeySet
}

// NewPool returns a pool whose key sets use base (its Issuer, Audiences
// and JWKSURL are ignored) and keeps at most size of them (<= 0:
// DefaultPoolSize).
func NewPool(base Config, size int) *Pool {
	if size <= 0 {
		size = DefaultPoolSize
	}
	return &Pool{base: base, size: size, order: list.New(), byURL: map[string]*list.Element{}}
}

// Keys returns the key set of jwksURL, making it (and starting its first
// fetch) when the pool has none.
func (p *Pool) Keys(jwksURL string) (*KeySet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.byURL[jwksURL]; ok {
		p.order.MoveToFront(e)
		return e.Value.(*poolEntry).keys, nil
	}
	cfg := p.base
	cfg.Issuer, cfg.Audiences, cfg.JWKSURL = "", nil, jwksURL
	ks, err := NewKeySet(cfg)
	if err != nil {
		return nil, err
	}
	p.byURL[jwksURL] = p.order.PushFront(&poolEntry{url: jwksURL, keys: ks})
	for p.order.Len() > p.size {
		last := p.order.Back()
		p.order.Remove(last)
		delete(p.byURL, last.Value.(*poolEntry).url)
	}
	return ks, nil
}

// Len is how many key sets the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.order.Len()
}
