// Command kubectl-c5c3 is the kubectl plugin for CobaltCore fleets run with
// FluxCD. kubectl finds it on the PATH and runs it as `kubectl c5c3`; the
// flux CLI runs the same binary, installed as flux-c5c3, as `flux c5c3`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // cloud auth providers for the hub

	"github.com/c5c3/kubectl-c5c3/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels ctx and the command winds down (promote
	// removes its worktree and settles a push); after it, signals are no
	// longer caught, so a second Ctrl-C ends the process at once.
	go func() { <-ctx.Done(); stop() }()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	code := plugin.ExecuteAs(ctx, streams, plugin.DisplayNameFor(os.Args[0]), os.Args[1:])
	stop()
	os.Exit(code)
}
