package diff

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// WriteText renders the result for a terminal: per cluster and
// Kustomization, a "► Kind/ns/name action" line per changed object with its
// unified diff, then skipped Kustomizations, danger flags, images, errors
// and a summary table.
func WriteText(w io.Writer, r *Result, p printers.Palette) error {
	var b strings.Builder
	writeTextScope(&b, r, p)
	byKS := map[string][]ObjectResult{}
	for _, o := range r.Objects {
		key := o.Cluster + "|" + o.Kustomization
		if o.HelmRelease != "" {
			// Rendered objects are listed under the Kustomization that
			// applies their HelmRelease, though they go to its target.
			key = hubName(r, o.Kustomization) + "|" + o.Kustomization
		}
		byKS[key] = append(byKS[key], o)
	}
	hrByKS := map[string][]HelmReleaseResult{}
	for _, h := range r.HelmReleases {
		if h.Unchanged() {
			// Counted in the summary; a line each would bury the
			// HelmReleases that change.
			continue
		}
		key := hubName(r, h.Kustomization) + "|" + h.Kustomization
		hrByKS[key] = append(hrByKS[key], h)
	}
	cluster := ""
	for _, k := range r.Kustomizations {
		objs := byKS[k.Cluster+"|"+k.ID()]
		if len(objs) == 0 && k.Error == "" && len(hrByKS[k.Cluster+"|"+k.ID()]) == 0 && !hasResourceSet(r, k) {
			continue
		}
		if k.Cluster != cluster {
			cluster = k.Cluster
			fmt.Fprintf(&b, "%s\n", p.Bold("cluster "+cluster))
		}
		title := fmt.Sprintf("Kustomization %s (%s)", k.ID(), k.Path)
		if k.New {
			title += " — new, diffed from git"
		}
		fmt.Fprintf(&b, "%s\n", p.Bold(title))
		if k.Error != "" {
			fmt.Fprintf(&b, "%s %s\n", p.Red("✗ error:"), k.Error)
		}
		for _, h := range hrByKS[k.Cluster+"|"+k.ID()] {
			writeHelmRelease(&b, h, p)
		}
		for _, s := range r.ResourceSets {
			if s.Cluster == k.Cluster && s.Kustomization == k.ID() {
				writeResourceSet(&b, s, p)
			}
		}
		for _, o := range objs {
			writeObject(&b, o, p)
		}
		b.WriteString("\n")
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "%s\n", p.Faint("Kustomizations not diffed:"))
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "%s\n", p.Faint(fmt.Sprintf("  %s/%s: %s", s.Namespace, s.Name, s.Reason)))
		}
		b.WriteString("\n")
	}
	writeTextUnchanged(&b, r, p)
	writeDangersText(&b, r, p)
	writeImagesText(&b, r, p)
	if len(r.Incomplete) > 0 {
		fmt.Fprintf(&b, "%s\n", p.Red(strings.ToUpper(IncompleteNote(r.Incomplete)[:1])+IncompleteNote(r.Incomplete)[1:]+":"))
		for _, g := range r.Incomplete {
			fmt.Fprintf(&b, "  %s\n", g)
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return printers.Table(w, summaryHeader, summaryRows(r))
}

// hubName is the cluster of the Kustomization id (the hub, for those
// that apply HelmReleases).
func hubName(r *Result, id string) string {
	for _, k := range r.Kustomizations {
		if k.ID() == id {
			return k.Cluster
		}
	}
	return ""
}

// writeHelmRelease prints a HelmRelease's line: target, chart versions and
// what helm-controller would do, or its error.
func writeHelmRelease(b *strings.Builder, h HelmReleaseResult, p printers.Palette) {
	fmt.Fprintf(b, "%s", p.Bold(fmt.Sprintf("HelmRelease %s → cluster %s, release %s/%s", h.ID(), h.Cluster, h.ReleaseNamespace, h.Release)))
	if h.Error != "" {
		fmt.Fprintf(b, "\n%s %s\n", p.Red("✗ error:"), h.Error)
		return
	}
	if pr := h.Prediction; pr != nil {
		from := pr.FromVersion
		if from == "" {
			from = "(none)"
		}
		fmt.Fprintf(b, ": chart %s %s → %s, %s", h.Chart, from, pr.ToVersion, pr.Plan)
		if pr.Reason != "" {
			fmt.Fprintf(b, " (%s)", pr.Reason)
		}
		if pr.ServerSideApply {
			b.WriteString(", server-side apply")
		}
	}
	b.WriteString("\n")
}

func writeObject(b *strings.Builder, o ObjectResult, p printers.Palette) {
	action := string(o.Action)
	switch o.Action {
	case ActionCreated:
		action = p.Green(action)
	case ActionDeleted, ActionError:
		action = p.Red(action)
	default:
		action = p.Yellow(action)
	}
	fmt.Fprintf(b, "► %s %s", o.ID(), action)
	if o.HelmRelease != "" {
		fmt.Fprintf(b, " via HelmRelease/%s", o.HelmRelease)
	}
	if o.ResourceSet != "" {
		fmt.Fprintf(b, " via ResourceSet/%s", o.ResourceSet)
	}
	if o.Reason != "" {
		fmt.Fprintf(b, " (%s)", o.Reason)
	}
	if o.Error != "" {
		fmt.Fprintf(b, ": %s", o.Error)
	}
	b.WriteString("\n")
	for _, line := range splitLines(o.Diff) {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			b.WriteString(p.Bold(line))
		case strings.HasPrefix(line, "@@"):
			b.WriteString(p.Cyan(line))
		case strings.HasPrefix(line, "+"):
			b.WriteString(p.Green(line))
		case strings.HasPrefix(line, "-"):
			b.WriteString(p.Red(line))
		default:
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
}

var summaryHeader = []string{"CLUSTER", "KUSTOMIZATION", "PATH", "CREATED", "DRIFTED", "DELETED", "UNCHANGED", "SKIPPED", "ERRORS"}

func summaryRows(r *Result) [][]string {
	itoa := strconv.Itoa
	var rows [][]string
	for _, k := range r.Kustomizations {
		c := k.Counts
		errs := c.Errors
		if k.Error != "" {
			errs++
		}
		rows = append(rows, []string{k.Cluster, k.ID(), k.Path, itoa(c.Created), itoa(c.Drifted), itoa(c.Deleted), itoa(c.Unchanged), itoa(c.Skipped), itoa(errs)})
	}
	for _, h := range r.HelmReleases {
		c := h.Counts
		errs := c.Errors
		if h.Error != "" {
			errs++
		}
		rows = append(rows, []string{h.Cluster, "HelmRelease/" + h.ID(), "(chart " + h.Chart + ")", itoa(c.Created), itoa(c.Drifted), itoa(c.Deleted), itoa(c.Unchanged), itoa(c.Skipped), itoa(errs)})
	}
	for _, s := range r.Skipped {
		rows = append(rows, []string{"-", s.Namespace + "/" + s.Name, "(not this checkout)", "-", "-", "-", "-", "-", "-"})
	}
	return rows
}

// MarkdownLimit caps a markdown report below GitHub's 65,536-character
// comment limit.
const MarkdownLimit = 60000

// WriteMarkdown renders a PR-comment-ready report: the summary table and one
// collapsible <details> block per cluster with the diffs. Past limit
// characters the remaining diffs are left out with a note.
func WriteMarkdown(w io.Writer, r *Result, limit int) error {
	return WriteMarkdownReport(w, r, limit, "")
}

// WriteMarkdownReport is WriteMarkdown whose note on left-out objects says
// that the full report is at fullReport (a URL or a file name), when set.
// Objects are left out whole, never cut in the middle.
func WriteMarkdownReport(w io.Writer, r *Result, limit int, fullReport string) error {
	if limit <= 0 {
		limit = MarkdownLimit
	}
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "### kubectl c5c3 diff\n\n")
	fmt.Fprintf(&b, "**%d created, %d drifted, %d deleted**, %d unchanged, %d skipped, %d errors", s.Created, s.Drifted, s.Deleted, s.Unchanged, s.Skipped, s.Errors)
	if r.Source != "" {
		fmt.Fprintf(&b, " — source `%s`", r.Source)
	}
	b.WriteString("\n\n")
	writeMarkdownScope(&b, r)
	writeMarkdownGaps(&b, r.Incomplete)
	writeMarkdownDangers(&b, r)
	b.WriteString("| " + strings.Join(titleCase(summaryHeader), " | ") + " |\n")
	b.WriteString(strings.Repeat("|---", len(summaryHeader)) + "|\n")
	for _, row := range summaryRows(r) {
		for i := range row {
			row[i] = mdCell(row[i])
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
	writeMarkdownHelmReleases(&b, r.HelmReleases)
	writeMarkdownImages(&b, r)

	clusters := []string{}
	seen := map[string]bool{}
	for _, k := range r.Kustomizations {
		if !seen[k.Cluster] {
			seen[k.Cluster] = true
			clusters = append(clusters, k.Cluster)
		}
	}
	for _, h := range r.HelmReleases {
		if !seen[h.Cluster] {
			seen[h.Cluster] = true
			clusters = append(clusters, h.Cluster)
		}
	}
	left := 0
	truncated := false
	for _, c := range clusters {
		var block strings.Builder
		n := 0
		// The Kustomizations applied to c, then the HelmReleases whose
		// target c is (their objects are rendered from the chart).
		type owner struct{ ks, hr, err string }
		var owners []owner
		for _, k := range r.Kustomizations {
			if k.Cluster == c {
				owners = append(owners, owner{ks: k.ID(), err: k.Error})
			}
		}
		for _, h := range r.HelmReleases {
			if h.Cluster == c {
				owners = append(owners, owner{ks: h.Kustomization, hr: h.ID(), err: h.Error})
			}
		}
		for _, ow := range owners {
			if ow.err != "" {
				if ow.hr != "" {
					fmt.Fprintf(&block, "**HelmRelease `%s`**: :x: %s\n\n", ow.hr, mdCell(ow.err))
				} else {
					fmt.Fprintf(&block, "**Kustomization `%s`**: :x: %s\n\n", ow.ks, mdCell(ow.err))
				}
				n++
			}
			for _, o := range r.Objects {
				if o.Cluster != c || o.Kustomization != ow.ks || o.HelmRelease != ow.hr {
					continue
				}
				n++
				entry := fmt.Sprintf("**► %s %s** (Kustomization `%s`)", o.ID(), o.Action, ow.ks)
				if ow.hr != "" {
					entry = fmt.Sprintf("**► %s %s** (HelmRelease `%s`)", o.ID(), o.Action, ow.hr)
				}
				if o.Reason != "" {
					entry += " — " + mdCell(o.Reason)
				}
				if o.Error != "" {
					entry += " — :x: " + mdCell(o.Error)
				}
				entry += "\n\n"
				if o.Diff != "" {
					entry += "```diff\n" + strings.ReplaceAll(o.Diff, "```", "` ` `") + "```\n\n"
				}
				if truncated || b.Len()+block.Len()+len(entry) > limit-200 {
					truncated = true
					left++
					continue
				}
				block.WriteString(entry)
			}
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(&b, "<details><summary>%s: %d changed or failed</summary>\n\n%s</details>\n\n", c, n, block.String())
	}
	if truncated {
		where := "Run `kubectl c5c3 diff` locally for the full diff."
		if fullReport != "" {
			where = "The full report: " + fullReport + "."
		}
		fmt.Fprintf(&b, "_Report truncated: %d more objects not shown. %s_\n", left, where)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdownHelmReleases is the table of the rendered HelmReleases:
// target and release, chart old → new version, what helm-controller would
// do, and the counts of the rendered objects.
func writeMarkdownHelmReleases(b *strings.Builder, hrs []HelmReleaseResult) {
	if len(hrs) == 0 {
		return
	}
	b.WriteString("| HelmRelease | Cluster | Release | Chart | Version | Plan | Created | Drifted | Deleted | Unchanged | Errors |\n")
	b.WriteString(strings.Repeat("|---", 11) + "|\n")
	for _, h := range hrs {
		version, plan := "", ":x: "+h.Error
		if pr := h.Prediction; pr != nil && h.Error == "" {
			from := pr.FromVersion
			if from == "" {
				from = "(none)"
			}
			version = from + " → " + pr.ToVersion
			plan = string(pr.Plan)
			if pr.Reason != "" {
				plan += " (" + pr.Reason + ")"
			}
			if pr.ServerSideApply {
				plan += ", server-side apply"
			}
		}
		c, itoa := h.Counts, strconv.Itoa
		errs := c.Errors
		if h.Error != "" {
			errs++
		}
		row := []string{"`" + h.ID() + "`", h.Cluster, h.ReleaseNamespace + "/" + h.Release, h.Chart, version, plan,
			itoa(c.Created), itoa(c.Drifted), itoa(c.Deleted), itoa(c.Unchanged), itoa(errs)}
		for i := range row {
			row[i] = mdCell(row[i])
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// writeMarkdownGaps is the warning of an incomplete plan, naming each gap.
func writeMarkdownGaps(b *strings.Builder, gaps []Gap) {
	if len(gaps) == 0 {
		return
	}
	note := IncompleteNote(gaps)
	fmt.Fprintf(b, "> :warning: **%s**\n>\n", strings.ToUpper(note[:1])+note[1:])
	for _, g := range gaps {
		fmt.Fprintf(b, "> - %s\n", mdCell(g.String()))
	}
	b.WriteString("\n")
}

func titleCase(h []string) []string {
	out := make([]string, len(h))
	for i, s := range h {
		out[i] = strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
	}
	return out
}

func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
