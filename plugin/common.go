package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// fleetOptions turns the shared flags into discovery options: -n narrows
// discovery to one hub namespace, --request-timeout bounds spoke requests
// too, --allow-exec-kubeconfig relaxes the spoke kubeconfig rules.
func (o *Options) fleetOptions() (fleet.Options, error) {
	timeout, err := o.RequestTimeout()
	if err != nil {
		return fleet.Options{}, err
	}
	ns, _ := o.Namespace()
	return fleet.Options{
		Namespace:     ns,
		HubName:       o.HubName,
		Spoke:         o.spokeOptions(timeout),
		FluxNamespace: o.FluxNamespace,
	}, nil
}

// spokeOptions say how spoke clients are built: --allow-exec-kubeconfig,
// --request-timeout, and requests that end with the command's context.
func (o *Options) spokeOptions(timeout time.Duration) kube.SpokeOptions {
	return kube.SpokeOptions{AllowExec: o.AllowExecKubeconfig, Timeout: timeout, WrapTransport: kube.Interruptible(o.interrupt)}
}

// completeRepo is the Complete of the commands that read a gitops checkout
// and the fleet: the checkout defaults to the working directory, and the
// shared flags become discovery options.
func (o *Options) completeRepo(repo *string) (fleet.Options, error) {
	if *repo == "" {
		*repo = "."
	}
	return o.fleetOptions()
}

// discoverFleet reads the fleet from the hub. Its errors (hub unreachable,
// Flux not installed) are exit code 2.
func discoverFleet(ctx context.Context, hub *kube.Client, opts fleet.Options) (*fleet.Fleet, error) {
	f, err := fleet.Discover(ctx, hub, opts)
	if err != nil {
		if !errors.Is(err, fleet.ErrFluxNotInstalled) {
			err = fmt.Errorf("cannot read the fleet from the hub %s: %w", hub.Config.Host, err)
		}
		return nil, &ExitError{Code: CodeError, Err: err}
	}
	return f, nil
}

// printStructured writes v as indented JSON or as YAML, for -o json|yaml.
func printStructured(w io.Writer, v any, format string) error {
	var b []byte
	var err error
	switch format {
	case "json":
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	case "yaml":
		b, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("unknown structured format %q", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
