package drift

import "sync"

// memo computes a value per key once, however many goroutines ask for it
// at the same time: the DescribeCluster of a cluster, the state and live
// color of an environment, an Argo CD's Applications. The zero value is
// ready to use.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*memoEntry[V]
}

type memoEntry[V any] struct {
	once sync.Once
	v    V
	err  error
}

// get returns the value of k, computing it with f on first use. Later
// callers wait for that first computation and share its result.
func (m *memo[K, V]) get(k K, f func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[K]*memoEntry[V]{}
	}
	e := m.m[k]
	if e == nil {
		e = &memoEntry[V]{}
		m.m[k] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.v, e.err = f() })
	return e.v, e.err
}
