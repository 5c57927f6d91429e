package testfleet

import "runtime"

// ownerThread is one OS thread that starts a cluster's processes and lives
// until they are stopped. Linux sends the parent-death signal (procAttr,
// ownedAssets) when the thread that forked a child ends, not the process,
// and the Go runtime ends a thread whose locked goroutine returns: a child
// forked from an arbitrary thread could be killed while its fleet still
// runs. Forking from a thread locked for the cluster's lifetime ties the
// child to the process only.
type ownerThread struct{ work chan func() }

func startOwnerThread() *ownerThread {
	t := &ownerThread{work: make(chan func())}
	go func() {
		// Never unlocked: after stop the goroutine returns locked and
		// the runtime ends the thread, which also kills whatever it
		// started that is still running.
		runtime.LockOSThread()
		for fn := range t.work {
			fn()
		}
	}()
	return t
}

// run runs fn on the thread and waits for it.
func (t *ownerThread) run(fn func()) {
	done := make(chan struct{})
	t.work <- func() {
		defer close(done)
		fn()
	}
	<-done
}

// stop ends the thread once everything it started has stopped.
func (t *ownerThread) stop() { close(t.work) }
