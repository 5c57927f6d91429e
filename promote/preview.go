package promote

import (
	"context"
	"fmt"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// preview runs the diff engine on the edited worktree against To's hub
// Kustomizations and their clusters, and sums it up as the blast radius;
// with FailOnDanger a danger flag, or a preview that could not be
// completed, is a *DangerError.
func (r *run) preview(ctx context.Context) error {
	f, err := r.fleetOf(ctx, r.toEnv)
	if err != nil {
		return err
	}
	kss, err := pipeline.SelectKustomizations(f, r.toEnv, r.origin)
	if err != nil {
		return fmt.Errorf("--diff: %w", err)
	}
	var targets []string
	source := ""
	for _, ks := range kss {
		targets = append(targets, fleet.ID(ks))
		s := fleet.KustomizationSource(ks).String()
		if source != "" && s != source {
			return fmt.Errorf("--diff: the Kustomizations of %s use different sources (%s, %s)", r.toEnv.Name, source, s)
		}
		source = s
	}
	r.logf("previewing the edited %s against its clusters", r.toEnv.Name)
	res, err := diff.Run(ctx, f, diff.Options{RepoDir: r.wt.Dir, Targets: targets, Source: source})
	if err != nil {
		return fmt.Errorf("--diff: %w", err)
	}
	res.Repo = "" // a temporary worktree: meaningless to the reader
	r.plan.Preview = res
	r.plan.BlastRadius = blastRadius(r.toEnv.Name, res)
	if r.o.FailOnDanger && r.plan.BlastRadius.Refused() {
		return &DangerError{Blast: r.plan.BlastRadius}
	}
	return nil
}
