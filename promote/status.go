package promote

import (
	"fmt"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
)

// StatusContext is the name of the commit status --open-pr sets, for
// branch protection to require.
const StatusContext = "c5c3/promotion-evidence"

// evidenceStatus sums up the plan's evidence as the commit status. For a
// promotion: success only when every gate passed on the commit promoted
// and the preview (if any) raised no danger flag. For a rollback, which
// runs no gate: success when the promotion it restores carries a Verified
// trailer (that earlier check is the evidence), else failure. GitHub
// allows 140 characters.
func evidenceStatus(p *Plan) forge.CommitStatus {
	st := forge.CommitStatus{Context: StatusContext, State: forge.StatusFailure}
	h := p.HealthCheck
	switch t := p.Rollback; {
	case t != nil && t.Before != "":
		st.Description = fmt.Sprintf("no evidence: restores the pins before promotion %s", short(t.Before))
	case t != nil && t.Verified == nil:
		st.Description = fmt.Sprintf("no evidence: the restored promotion %s has no %s trailer", short(t.Commit), TrailerVerified)
	case t != nil:
		st.State = forge.StatusSuccess
		st.Description = fmt.Sprintf("restores promotion %s, verified: %s", short(t.Commit), t.Verified.Text)
	case h == nil || len(h.Gates) == 0:
		st.Description = "no evidence: the health gate was skipped"
	case !h.Healthy:
		st.Description = fmt.Sprintf("health gate failed (%d problems), overridden with --skip-health-check", len(h.AllProblems()))
	case h.Commit != p.From.Commit:
		st.Description = fmt.Sprintf("%s runs %s, not the promoted %s", p.From.Environment, short(h.Commit), short(p.From.Commit))
	case p.BlastRadius != nil && len(p.BlastRadius.Incomplete) > 0:
		st.Description = fmt.Sprintf("the preview of %s is incomplete: %d %s could not be rendered or diffed", p.To.Environment,
			len(p.BlastRadius.Incomplete), plural(len(p.BlastRadius.Incomplete), "Kustomization or HelmRelease", "Kustomizations or HelmReleases"))
	case p.BlastRadius != nil && p.BlastRadius.Dangers > 0:
		st.Description = fmt.Sprintf("%d danger %s in the preview of %s", p.BlastRadius.Dangers, plural(p.BlastRadius.Dangers, "flag", "flags"), p.To.Environment)
	default:
		st.State = forge.StatusSuccess
		nks, nhr := deliveryCounts(h)
		st.Description = fmt.Sprintf("%d gates passed: %d Kustomizations, %d HelmReleases Ready, soaked %s", len(h.Gates), nks, nhr, h.Soaked)
		if p.BlastRadius == nil {
			st.Description += "; no --diff preview"
		}
	}
	st.Description = forge.ShortDescription(st.Description)
	return st
}
