package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// RenderOptions tune the human-readable output.
type RenderOptions struct {
	// Palette colours the output; with colour off no symbols are printed
	// either, only words.
	Palette printers.Palette
	// Now is the reference time for ages (default time.Now).
	Now time.Time
}

func (o RenderOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Symbol is the mark the tree puts before a state: the flux CLI's ✔ ✗ ◎
// painted, or "" with colour off.
func (o RenderOptions) Symbol(state string) string {
	p := o.Palette
	if !p.On {
		return ""
	}
	switch state {
	case StateReady:
		return p.Green("✔") + " "
	case StateFailed, StateUnknown:
		return p.Red("✗") + " "
	default:
		return p.Yellow("◎") + " "
	}
}

// Word paints a state the way the tree does.
func (o RenderOptions) Word(state string) string {
	switch state {
	case StateReady:
		return o.Palette.Green(state)
	case StateFailed, StateUnknown:
		return o.Palette.Red(state)
	default:
		return o.Palette.Yellow(state)
	}
}

func boolState(ok bool) string {
	if ok {
		return StateReady
	}
	return StateFailed
}

// WriteTree renders the report as a tree: hub → Flux → each target
// cluster → its Kustomizations and HelmReleases.
func WriteTree(w io.Writer, r *Report, o RenderOptions) error {
	p := o.Palette
	rootLabel := p.Bold(r.Hub.Name) + " (hub)"
	if r.Hub.ServerVersion != "" {
		rootLabel += " · Kubernetes " + r.Hub.ServerVersion
	}
	root := &printers.Node{Label: rootLabel}
	if f := r.Hub.Flux; f != nil {
		fluxTree(root, f, o)
	} else if r.Hub.Notice != "" {
		root.Add(p.Yellow("notice: ") + r.Hub.Notice)
	}
	if len(r.Hub.Access) > 0 {
		root.Add(accessLabel(r.Hub.Access, o))
	}
	resourceSetTree(root, r.Hub.ResourceSets, o)
	for _, c := range r.Clusters {
		clusterTree(root, c, o)
	}
	if err := printers.WriteTree(w, root); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, summaryLine(r.Summary, o))
	return err
}

func fluxTree(root *printers.Node, f *Flux, o RenderOptions) {
	label := o.Symbol(boolState(fluxHealthy(f))) + "Flux " + f.Version
	if f.Status != "" {
		label += " · " + f.Status
	}
	if f.Operator != nil {
		label += " · operator " + f.Operator.Version
	}
	if !f.Ready && f.Message != "" {
		label += " · " + o.Palette.Red(f.Message)
	}
	fn := root.Add(label)
	if sy := f.Sync; sy != nil {
		l := o.Symbol(boolState(sy.Ready)) + "sync " + sy.Source
		if sy.Path != "" {
			l += " path " + sy.Path
		}
		l += " · " + o.Word(boolState(sy.Ready))
		if sy.Status != "" {
			l += "\n" + o.Palette.Faint(shortRevisions(sy.Status))
		}
		fn.Add(l)
	}
	for _, c := range f.Components {
		l := o.Symbol(boolState(c.Ready)) + c.Name + " · " + o.Word(boolState(c.Ready))
		if !c.Ready && c.Status != "" {
			l += " · " + c.Status
		}
		fn.Add(l)
	}
	if len(f.Reconcilers) > 0 {
		var parts []string
		for _, rc := range f.Reconcilers {
			parts = append(parts, fmt.Sprintf("%s %d running, %d failing, %d suspended", rc.Kind, rc.Running, rc.Failing, rc.Suspended))
		}
		fn.Add("reconcilers: " + strings.Join(parts, "; "))
	}
}

func clusterTree(root *printers.Node, c Cluster, o RenderOptions) {
	p := o.Palette
	state := boolState(c.Reachable)
	label := o.Symbol(state) + "cluster " + p.Bold(c.Name)
	if c.Hub {
		label += " (hub)"
	}
	if c.Reachable {
		if !c.Hub && c.ServerVersion != "" {
			label += " · Kubernetes " + c.ServerVersion
		}
		if c.Nodes != nil {
			label += " · " + plural(*c.Nodes, "node")
		}
	} else {
		label += " · " + p.Red("unreachable")
	}
	if c.KubeConfig != "" {
		label += " · via " + c.KubeConfig
	}
	if c.Error != "" {
		label += "\n" + p.Red("error: ") + c.Error
	}
	cn := root.Add(label)
	if len(c.Access) > 0 {
		cn.Add(accessLabel(c.Access, o))
	}
	for _, obj := range c.Objects {
		cn.Add(objectLabel(obj, o))
	}
}

// accessLabel is one tree node for a cluster's access checks: the worst
// state and the OK checks in short on the first line, then one line per
// check that is not OK.
func accessLabel(checks []AccessCheck, o RenderOptions) string {
	worst := worstAccess(checks)
	parts := []string{o.accessSymbol(worst) + "access", o.accessWord(worst)}
	var detail []string
	for _, c := range checks {
		if c.State == AccessOK {
			parts = append(parts, c.short)
		} else {
			detail = append(detail, o.accessWord(c.State)+": "+c.Message)
		}
	}
	label := strings.Join(parts, " · ")
	for _, d := range detail {
		label += "\n" + d
	}
	return label
}

func (o RenderOptions) accessSymbol(state string) string {
	switch state {
	case AccessOK:
		return o.Symbol(StateReady)
	case AccessWarning:
		return o.Symbol(StateProgressing)
	}
	return o.Symbol(StateFailed)
}

func (o RenderOptions) accessWord(state string) string {
	switch state {
	case AccessOK:
		return o.Palette.Green(state)
	case AccessWarning:
		return o.Palette.Yellow(state)
	}
	return o.Palette.Red(state)
}

func objectLabel(obj Object, o RenderOptions) string {
	p := o.Palette
	state := obj.State
	if obj.Stale && state == StateReady {
		state = StateProgressing // yellow: something is not applied yet
	}
	if obj.ReleaseProblem() != "" {
		state = StateFailed // red: Helm's storage is not what Flux reports
	}
	parts := []string{o.Symbol(state) + obj.ID(), o.Word(obj.State)}
	if obj.Stale {
		parts = append(parts, p.Yellow("stale"))
	}
	if obj.Revision != "" {
		parts = append(parts, "applied "+ShortRevision(obj.Revision))
	}
	if obj.Inventory != nil {
		parts = append(parts, plural(*obj.Inventory, "object"))
	}
	label := strings.Join(parts, " · ")
	var detail []string
	if obj.Stale {
		detail = append(detail, fmt.Sprintf("source %s has %s", obj.Source, ShortRevision(obj.SourceRevision)))
	}
	if len(obj.WaitingFor) > 0 {
		detail = append(detail, "waiting for "+strings.Join(obj.WaitingFor, ", "))
	}
	if obj.State != StateReady && obj.State != StateSuspended && (obj.Reason != "" || obj.Message != "") {
		detail = append(detail, p.Red(obj.Reason)+": "+oneLine(obj.Message))
	}
	if rel := obj.Release; rel != nil && rel.Problem != "" {
		detail = append(detail, p.Red("release")+": "+rel.Problem)
	} else if rel != nil && rel.Error != "" {
		detail = append(detail, p.Faint("release not checked: "+rel.Error))
	}
	for _, d := range detail {
		label += "\n" + d
	}
	return label
}

func summaryLine(s Summary, o RenderOptions) string {
	p := o.Palette
	line := fmt.Sprintf("%s, %s: %d ready, %d failed, %d progressing, %d suspended, %d stale",
		plural(s.Clusters, "cluster"), plural(s.Objects, "Flux object"), s.Ready, s.Failed, s.Progressing, s.Suspended, s.Stale)
	if s.Unreachable > 0 {
		line += fmt.Sprintf(", %d unreachable", s.Unreachable)
	}
	if s.ReleaseProblems > 0 {
		line += fmt.Sprintf(", %s differing from Helm storage", plural(s.ReleaseProblems, "release"))
	}
	if s.AccessFailing > 0 || s.AccessWarnings > 0 {
		line += fmt.Sprintf("; access checks: %d failing, %s", s.AccessFailing, plural(s.AccessWarnings, "warning"))
	}
	if s.Healthy {
		return p.Green("healthy") + ": " + line
	}
	return p.Red("needs attention") + ": " + line
}

// WriteTable renders one row per Flux object (and per unreachable cluster
// and access check that is not OK), then the FluxReport's reconciler stats.
func WriteTable(w io.Writer, r *Report, o RenderOptions) error {
	header := []string{"CLUSTER", "KIND", "NAME", "REVISION", "SUSPENDED", "READY", "AGE", "MESSAGE"}
	var rows [][]string
	now := o.now()
	accessRows := func(cluster string, checks []AccessCheck) {
		for _, a := range checks {
			if a.State != AccessOK {
				rows = append(rows, []string{cluster, "Access", a.Check, "", "", a.State, "", oneLine(a.Message)})
			}
		}
	}
	accessRows(r.Hub.Name, r.Hub.Access)
	for _, c := range r.Clusters {
		if !c.Reachable {
			rows = append(rows, []string{c.Name, "Cluster", c.KubeConfig, "", "", "False", "", oneLine(c.Error)})
		}
		accessRows(c.Name, c.Access)
		for _, obj := range c.Objects {
			msg := oneLine(obj.Message)
			if obj.Stale {
				msg = "stale: source has " + obj.SourceRevision + "; " + msg
			}
			if p := obj.ReleaseProblem(); p != "" {
				msg = "release: " + p + "; " + msg
			}
			rows = append(rows, []string{
				c.Name, obj.Kind, obj.Namespace + "/" + obj.Name, obj.Revision,
				strconv.FormatBool(obj.Suspended), obj.Ready, age(now, obj.Created), msg,
			})
		}
	}
	if err := printers.Table(w, header, rows); err != nil {
		return err
	}
	if r.Hub.Flux == nil || len(r.Hub.Flux.Reconcilers) == 0 {
		return nil
	}
	var stats [][]string
	for _, rc := range r.Hub.Flux.Reconcilers {
		stats = append(stats, []string{rc.Kind, rc.APIVersion, strconv.FormatInt(rc.Running, 10),
			strconv.FormatInt(rc.Failing, 10), strconv.FormatInt(rc.Suspended, 10), rc.TotalSize})
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	return printers.Table(w, []string{"RECONCILER", "API VERSION", "RUNNING", "FAILING", "SUSPENDED", "STORAGE"}, stats)
}

func age(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ShortRevision shortens "main@sha1:<40 hex>" to "main@sha1:<7 hex>".
func ShortRevision(rev string) string {
	i := strings.LastIndex(rev, ":")
	if i < 0 || len(rev)-i-1 < 12 {
		return rev
	}
	return rev[:i+8]
}

// shortRevisions shortens every revision in a free-text message.
func shortRevisions(msg string) string {
	fields := strings.Fields(msg)
	for i, f := range fields {
		if strings.Contains(f, "@sha") {
			fields[i] = ShortRevision(f)
		}
	}
	return strings.Join(fields, " ")
}
