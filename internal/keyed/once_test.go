package keyed

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestOnceDo(t *testing.T) {
	errBoom := errors.New("boom")
	type call struct {
		key     string
		v       int
		err     error
		forget  bool // Forget key before this call
		wantV   int
		wantErr error
	}
	tests := []struct {
		name      string
		calls     []call
		wantCalls int
	}{
		{
			name:      "the first value is kept for its key",
			calls:     []call{{key: "a", v: 1, wantV: 1}, {key: "a", v: 2, wantV: 1}},
			wantCalls: 1,
		},
		{
			name:      "each key has its own value",
			calls:     []call{{key: "a", v: 1, wantV: 1}, {key: "b", v: 2, wantV: 2}, {key: "a", v: 3, wantV: 1}},
			wantCalls: 2,
		},
		{
			name:      "an error is kept like a value",
			calls:     []call{{key: "a", err: errBoom, wantErr: errBoom}, {key: "a", v: 2, wantErr: errBoom}},
			wantCalls: 1,
		},
		{
			name:      "an error of one key is not another's",
			calls:     []call{{key: "a", err: errBoom, wantErr: errBoom}, {key: "b", v: 2, wantV: 2}},
			wantCalls: 2,
		},
		{
			name:      "Forget computes the key again",
			calls:     []call{{key: "a", err: errBoom, wantErr: errBoom}, {key: "a", v: 2, forget: true, wantV: 2}, {key: "a", v: 3, wantV: 2}},
			wantCalls: 2,
		},
		{
			name:      "Forget of an unknown key is harmless",
			calls:     []call{{key: "a", v: 1, forget: true, wantV: 1}},
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Once[string, int]
			calls := 0
			for i, c := range tt.calls {
				if c.forget {
					o.Forget(c.key)
				}
				v, err := o.Do(c.key, func() (int, error) { calls++; return c.v, c.err })
				if v != c.wantV || !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
					t.Errorf("call %d Do(%q) = %d, %v; want %d, %v", i, c.key, v, err, c.wantV, c.wantErr)
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// TestOnceConcurrent starts many callers of a few keys while fn is held:
// each key's fn runs once, and every caller, including those that waited
// for it, gets its key's value.
func TestOnceConcurrent(t *testing.T) {
	const keys, callers = 4, 50
	var o Once[int, int]
	var calls [keys]atomic.Int32
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(keys)
	var wg sync.WaitGroup
	got := make([][]int, keys)
	for k := range keys {
		got[k] = make([]int, callers)
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := o.Do(k, func() (int, error) {
					calls[k].Add(1)
					started.Done()
					<-release
					return k * 10, nil
				})
				if err != nil {
					t.Errorf("Do(%d): %v", k, err)
				}
				got[k][i] = v
			}()
		}
	}
	started.Wait() // every key's fn is running; the other callers wait
	close(release)
	wg.Wait()
	for k := range keys {
		if n := calls[k].Load(); n != 1 {
			t.Errorf("key %d: fn called %d times, want 1", k, n)
		}
		for i, v := range got[k] {
			if v != k*10 {
				t.Errorf("key %d caller %d got %d, want %d", k, i, v, k*10)
			}
		}
	}
}

// TestOnceForgetWhileRunning: a Forget while fn runs does not cut its
// waiters off, and the next Do computes afresh.
func TestOnceForgetWhileRunning(t *testing.T) {
	var o Once[string, int]
	running, release := make(chan struct{}), make(chan struct{})
	done := make(chan int)
	go func() {
		v, _ := o.Do("a", func() (int, error) { close(running); <-release; return 1, nil })
		done <- v
	}()
	<-running
	o.Forget("a")
	v2, _ := o.Do("a", func() (int, error) { return 2, nil })
	close(release)
	if v1 := <-done; v1 != 1 {
		t.Errorf("the running call got %d, want 1", v1)
	}
	if v2 != 2 {
		t.Errorf("Do after Forget got %d, want 2 (a fresh call)", v2)
	}
}
