package diff

import (
	"fmt"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// NoLiveNote is what every format says of a --no-live run.
const NoLiveNote = "Live state was not read (--no-live): no cluster was contacted; the base and the checkout were rendered and compared with each other"

// scopeHeader is the line naming the base a --base run compared with,
// and, with --no-live, that live state was not read; "" without --base.
func scopeHeader(r *Result) string {
	if r.Base == nil {
		return ""
	}
	s := fmt.Sprintf("Base: %s (commit %s) — only what differs from it was diffed", r.Base.Ref, r.Base.Commit)
	if r.NoLive {
		s += ".\n" + NoLiveNote
	}
	return s + "."
}

// unchangedLines groups the unchanged Kustomizations and HelmReleases per
// cluster, one line each: "cluster: Kind ns/name, ...".
func unchangedLines(r *Result) []string {
	var out []string
	var cur string
	var names []string
	flush := func() {
		if len(names) > 0 {
			out = append(out, cur+": "+strings.Join(names, ", "))
		}
		names = nil
	}
	for _, u := range r.Unchanged {
		if u.Cluster != cur {
			flush()
			cur = u.Cluster
		}
		names = append(names, u.Kind+" "+u.Namespace+"/"+u.Name)
	}
	flush()
	return out
}

// writeTextScope writes the --base header (top of the text report).
func writeTextScope(b *strings.Builder, r *Result, p printers.Palette) {
	if h := scopeHeader(r); h != "" {
		fmt.Fprintf(b, "%s\n\n", p.Bold(h))
	}
}

// writeTextUnchanged lists what the change leaves as it is.
func writeTextUnchanged(b *strings.Builder, r *Result, p printers.Palette) {
	writeTextUnresolved(b, r, p)
	if r.Base == nil {
		return
	}
	fmt.Fprintf(b, "%s\n", p.Faint(fmt.Sprintf("%d unchanged by this change (not diffed):", len(r.Unchanged))))
	for _, l := range unchangedLines(r) {
		fmt.Fprintf(b, "%s\n", p.Faint("  "+l))
	}
	b.WriteString("\n")
}

func writeTextUnresolved(b *strings.Builder, r *Result, p printers.Palette) {
	if len(r.NotResolvedOffline) == 0 {
		return
	}
	fmt.Fprintf(b, "%s\n", p.Faint("Not resolved offline (only the hub holds them; the same placeholder on both sides):"))
	for _, s := range r.NotResolvedOffline {
		fmt.Fprintf(b, "%s\n", p.Faint("  "+s))
	}
	b.WriteString("\n")
}

// writeMarkdownScope writes the --base header, what was not resolved
// offline and the unchanged list (collapsed).
func writeMarkdownScope(b *strings.Builder, r *Result) {
	if r.Base == nil {
		return
	}
	fmt.Fprintf(b, "Base: `%s` (commit `%s`) — only what differs from it was diffed.", r.Base.Ref, r.Base.Commit)
	if r.NoLive {
		fmt.Fprintf(b, "\n\n> :warning: **%s.**", NoLiveNote)
	}
	b.WriteString("\n\n")
	if len(r.NotResolvedOffline) > 0 {
		b.WriteString("<details><summary>Not resolved offline: " + fmt.Sprint(len(r.NotResolvedOffline)) + " (only the hub holds them; the same placeholder on both sides)</summary>\n\n")
		for _, s := range r.NotResolvedOffline {
			fmt.Fprintf(b, "- %s\n", mdCell(s))
		}
		b.WriteString("\n</details>\n\n")
	}
	fmt.Fprintf(b, "<details><summary>%d unchanged by this change (not diffed)</summary>\n\n", len(r.Unchanged))
	for _, l := range unchangedLines(r) {
		fmt.Fprintf(b, "- %s\n", mdCell(l))
	}
	b.WriteString("\n</details>\n\n")
}
