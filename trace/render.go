package trace

import (
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/status"
)

// WriteTree renders the trace as a tree: the object, its applier below
// it, each Kustomization that applied the step above below that, every
// step with its source; then notices and the verdict.
func WriteTree(w io.Writer, t *Trace, o status.RenderOptions) error {
	root := &printers.Node{Label: objectLabel(t.Object, o)}
	if d := t.Object.Drift; d != nil {
		root.Add(driftLabel(d, o))
	}
	parent := root
	for _, st := range t.Chain {
		n := parent.Add(stepLabel(st, o))
		if st.SourceStatus != nil {
			n.Add(sourceLabel(st, o))
		}
		for _, p := range st.Providers {
			n.Add(providerLabel(p, o))
		}
		parent = n
	}
	if err := printers.WriteTree(w, root); err != nil {
		return err
	}
	var b strings.Builder
	for _, n := range t.Notices {
		fmt.Fprintf(&b, "%s %s\n", o.Palette.Yellow("note:"), n)
	}
	b.WriteString(verdict(t, o))
	_, err := io.WriteString(w, b.String())
	return err
}

func objectLabel(obj Object, o status.RenderOptions) string {
	p := o.Palette
	label := p.Bold(obj.ID()) + " · cluster " + obj.Cluster
	if obj.Hub {
		label += " (hub)"
	}
	if obj.KubeConfig != "" {
		label += " · via " + obj.KubeConfig
	}
	if obj.Error != "" {
		label += "\n" + p.Red("error: ") + obj.Error
	}
	return label
}

func driftLabel(d *Drift, o status.RenderOptions) string {
	p := o.Palette
	var label string
	switch diff.Action(d.Action) {
	case diff.ActionUnchanged:
		label = o.Symbol(status.StateReady) + "git: " + p.Green("no drift") + " from the build of Kustomization " + d.Kustomization
	case diff.ActionError:
		label = o.Symbol(status.StateFailed) + "git: " + p.Red("diff failed") + ": " + d.Error
	case ActionNotDiffed, diff.ActionSkipped:
		label = o.Symbol(status.StateProgressing) + "git: " + p.Yellow(d.Action) + ": " + d.Reason
	default:
		label = o.Symbol(status.StateFailed) + "git: " + p.Red(d.Action) + " (Kustomization " + d.Kustomization
		if d.HelmRelease != "" {
			label += ", HelmRelease " + d.HelmRelease
		}
		label += ")"
	}
	if d.Diff != "" {
		for _, line := range strings.Split(strings.TrimRight(d.Diff, "\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "+"):
				line = p.Green(line)
			case strings.HasPrefix(line, "-"):
				line = p.Red(line)
			case strings.HasPrefix(line, "@@"):
				line = p.Cyan(line)
			}
			label += "\n" + line
		}
	}
	return label
}

func stepLabel(st Step, o status.RenderOptions) string {
	p := o.Palette
	if !st.Found {
		return o.Symbol(status.StateFailed) + st.ID() + " · " + p.Red("not found") + "\n" + st.Error
	}
	state := st.State
	if st.Stale && state == status.StateReady {
		state = status.StateProgressing // yellow: something is not applied yet
	}
	parts := []string{o.Symbol(state) + st.ID(), o.Word(st.State)}
	if st.Stale {
		parts = append(parts, p.Yellow("stale"))
	}
	if st.Revision != "" {
		parts = append(parts, "applied "+status.ShortRevision(st.Revision))
	}
	switch {
	case st.InInventory == nil:
	case *st.InInventory:
		parts = append(parts, "in inventory")
	default:
		parts = append(parts, p.Red("not in inventory"))
	}
	if st.Root {
		parts = append(parts, p.Bold("root sync"))
	}
	label := strings.Join(parts, " · ")
	target := "→ cluster " + st.Cluster
	if st.KubeConfig != "" {
		target += " via " + st.KubeConfig
	} else {
		target += " (hub)"
	}
	if st.Path != "" {
		target = "path " + st.Path + " " + target
	}
	if st.Chart != "" {
		target = "chart " + st.Chart + " " + target
	}
	label += "\n" + p.Faint(target)
	if st.AttemptedRevision != "" && st.AttemptedRevision != st.Revision {
		label += "\nlast attempted " + status.ShortRevision(st.AttemptedRevision)
	}
	if st.Stale {
		label += fmt.Sprintf("\nsource %s has %s", st.Source, status.ShortRevision(st.SourceRevision))
	}
	if st.Ready != string(metav1.ConditionTrue) && (st.Reason != "" || st.Message != "") {
		label += "\n" + p.Red(st.Reason) + ": " + strings.Join(strings.Fields(st.Message), " ")
	}
	if st.Error != "" {
		label += "\n" + p.Red("error: ") + st.Error
	}
	return label
}

func sourceLabel(st Step, o status.RenderOptions) string {
	s := st.SourceStatus
	if st.Source == "" {
		return "source: no HelmChart yet, chart from " + s.From
	}
	if !s.Found {
		return o.Symbol(status.StateFailed) + "source " + st.Source + " · " + o.Palette.Red("not found on the hub")
	}
	state := status.StateUnknown
	switch s.Ready {
	case string(metav1.ConditionTrue):
		state = status.StateReady
	case string(metav1.ConditionFalse):
		state = status.StateFailed
	}
	parts := []string{o.Symbol(state) + "source " + st.Source, o.Word(state)}
	if st.SourceRevision != "" {
		parts = append(parts, status.ShortRevision(st.SourceRevision))
	}
	if s.From != "" {
		parts = append(parts, "from "+s.From)
	}
	label := strings.Join(parts, " · ")
	if s.URL != "" {
		label += "\n" + o.Palette.Faint(s.URL)
	}
	if state != status.StateReady && (s.Reason != "" || s.Message != "") {
		label += "\n" + o.Palette.Red(s.Reason) + ": " + strings.Join(strings.Fields(s.Message), " ")
	}
	return label
}

func verdict(t *Trace, o status.RenderOptions) string {
	p := o.Palette
	switch {
	case t.Summary.Healthy:
		ids := []string{t.Object.ID()}
		for _, st := range t.Chain {
			ids = append(ids, st.ID())
		}
		return p.Green("healthy") + ": " + strings.Join(ids, " ← ") + "\n"
	case len(t.Summary.Problems) == 0 && t.Summary.Error != "":
		return p.Red("error") + ": the trace is incomplete (see the error above)\n"
	}
	var b strings.Builder
	b.WriteString(p.Red("needs attention") + ":\n")
	for _, pr := range t.Summary.Problems {
		b.WriteString("- " + pr + "\n")
	}
	if t.Summary.Error != "" {
		b.WriteString("- " + p.Red("error") + ": the trace is incomplete (see the error above)\n")
	}
	return b.String()
}
