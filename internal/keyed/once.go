package keyed

import "sync"

// Once runs a function once per key and hands its value and error to
// every caller of that key, including those that called while it ran;
// they wait for it. An error is kept like a value: a key that failed
// fails again without a second call, until Forget. The zero value is
// ready to use; a Once must not be copied after first use.
//
// Waiting does not watch a context: fn is run with the first caller's
// context and ends when it does, and so do the waiters.
type Once[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]*entry[V]
}

type entry[V any] struct {
	once sync.Once
	v    V
	err  error
}

// Do returns the value and error of fn for key, calling fn only if no
// earlier call of Do for key (since its last Forget) did.
func (o *Once[K, V]) Do(key K, fn func() (V, error)) (V, error) {
	o.mu.Lock()
	if o.entries == nil {
		o.entries = map[K]*entry[V]{}
	}
	e := o.entries[key]
	if e == nil {
		e = &entry[V]{}
		o.entries[key] = e
	}
	o.mu.Unlock()
	e.once.Do(func() { e.v, e.err = fn() })
	return e.v, e.err
}

// Forget drops key's value, so that its next Do calls fn again. A call of
// fn under way still ends and hands its value to the callers waiting for
// it.
func (o *Once[K, V]) Forget(key K) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.entries, key)
}
