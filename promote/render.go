package promote

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// commitMessage is the promotion commit's message: a subject
// "promote(<from> → <to>): <summary>", a body listing each pin as
// "old → new", and the trailers Promoted-From: <from>@<sha> and
// Promoted-To: <to>, then — when every gate passed on the commit promoted —
// Soaked: <least soak, e.g. 2h13m> and Verified: <n> Kustomizations, <m>
// HelmReleases on <cluster>, <cluster>.
func commitMessage(p *Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "promote(%s → %s): %s\n\n", p.From.Environment, p.To.Environment, subjectSummary(p.Changes))
	fmt.Fprintf(&b, "Promote %s at %s (%s) to %s:\n\n", p.From.Environment, short(p.From.Commit), p.From.Revision, p.To.Environment)
	seen := map[string]bool{}
	for _, c := range p.Changes {
		line := fmt.Sprintf("- %s: %s → %s", c.Key, c.Current, c.New)
		if seen[line] {
			continue
		}
		seen[line] = true
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "\nPromoted-From: %s@%s\nPromoted-To: %s\n", p.From.Environment, p.From.Commit, p.To.Environment)
	for _, t := range verifiedTrailers(p) {
		b.WriteString(t + "\n")
	}
	return b.String()
}

func subjectSummary(changes []Change) string {
	keys := map[string]bool{}
	kinds := map[string]int{}
	for _, c := range changes {
		if !keys[c.Key] {
			keys[c.Key] = true
			kinds[c.Kind]++
		}
	}
	if len(keys) == 1 {
		c := changes[0]
		return c.Key + " → " + c.New
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = strconv.Itoa(kinds[k]) + " " + k
	}
	return fmt.Sprintf("%d pins (%s)", len(keys), strings.Join(parts, ", "))
}

// planHeader and planRows are the plan table: one row per value of the
// target environment that changes.
var planHeader = []string{"KEY", "KIND", "FILE", "CURRENT", "NEW"}

// planRows returns the rows of the plan table.
func planRows(p *Plan) [][]string {
	rows := make([][]string, 0, len(p.Changes))
	for _, c := range p.Changes {
		rows = append(rows, []string{c.Key, c.Kind, c.File + ":" + strconv.Itoa(c.Line), c.Current, c.New})
	}
	return rows
}

// WriteText renders the plan (and what was done) for a terminal: a header,
// the plan table, the keys found on one side only, the file diff (when
// files is set), the --diff preview and the outcome.
func WriteText(w io.Writer, p *Plan, files bool, pal printers.Palette) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", pal.Bold(fmt.Sprintf("Promote %s at %s (%s) → %s on %s (%s)",
		p.From.Environment, short(p.From.Commit), p.From.Revision, p.To.Environment, p.To.Base, short(p.To.BaseCommit))))
	if h := p.HealthCheck; h != nil {
		names := make([]string, len(h.Kustomizations))
		for i, k := range h.Kustomizations {
			names[i] = k.ID()
		}
		state := pal.Green("healthy")
		if !h.Healthy {
			state = pal.Yellow("NOT healthy (--skip-health-check)")
		}
		fmt.Fprintf(&b, "health gate: %s: %s\n", state, strings.Join(names, ", "))
		for _, g := range h.Gates {
			verdict := pal.Green("pass")
			if !g.Passed {
				verdict = pal.Red("FAIL")
			}
			fmt.Fprintf(&b, "  %-9s %s  %s\n", g.Name+":", verdict, g.Evidence)
			for _, p := range g.Problems {
				fmt.Fprintf(&b, "            %s\n", p)
			}
		}
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	b.Reset()
	if len(p.Changes) > 0 {
		if err := printers.Table(w, planHeader, planRows(p)); err != nil {
			return err
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "nothing to promote: %s already has the values of %s\n\n", p.To.Environment, p.From.Environment)
	}
	oneSide := func(title string, pins []pipeline.Pin) {
		if len(pins) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s\n", title)
		for _, pin := range pins {
			fmt.Fprintf(&b, "  %s = %s (%s:%d)\n", pin.Key, pin.Value, pin.File, pin.Line)
		}
	}
	oneSide("Only in "+p.From.Environment+" (not promoted):", p.OnlyInFrom)
	oneSide("Only in "+p.To.Environment+" (kept):", p.OnlyInTo)
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "Conflicting values in %s (not promoted): %s\n", c.Environment, c.Key)
		for _, pin := range c.Pins {
			fmt.Fprintf(&b, "  %s (%s:%d)\n", pin.Value, pin.File, pin.Line)
		}
	}
	if len(p.Excluded) > 0 {
		fmt.Fprintf(&b, "Excluded by --only/--exclude: %s\n", strings.Join(p.Excluded, ", "))
	}
	s := p.Summary
	fmt.Fprintf(&b, "%d to change, %d unchanged, %d only in %s, %d only in %s, %d conflicting, %d excluded\n",
		s.Changes, s.Unchanged, s.OnlyInFrom, p.From.Environment, s.OnlyInTo, p.To.Environment, s.Conflicts, s.Excluded)
	if files {
		for _, f := range p.Files {
			b.WriteString("\n")
			for _, line := range strings.SplitAfter(strings.TrimSuffix(f.Diff, "\n"), "\n") {
				l := strings.TrimSuffix(line, "\n")
				switch {
				case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
					l = pal.Bold(l)
				case strings.HasPrefix(l, "@@"):
					l = pal.Cyan(l)
				case strings.HasPrefix(l, "+"):
					l = pal.Green(l)
				case strings.HasPrefix(l, "-"):
					l = pal.Red(l)
				}
				b.WriteString(l + "\n")
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	b.Reset()
	if p.Preview != nil {
		fmt.Fprintf(w, "\n%s\n", pal.Bold("Preview (kubectl c5c3 diff of the edited "+p.To.Environment+"):"))
		if err := diff.WriteText(w, previewShown(p.Preview), pal); err != nil {
			return err
		}
	}
	if br := p.BlastRadius; br != nil {
		if err := writeBlastText(w, br, pal); err != nil {
			return err
		}
	}
	switch {
	case p.Result != nil:
		fmt.Fprintf(&b, "\nCommitted %s on branch %s", short(p.Result.Commit), p.Result.Branch)
		if p.Result.Replaced != "" {
			fmt.Fprintf(&b, " (replacing %s)", short(p.Result.Replaced))
		}
		b.WriteString("\n")
		if p.Result.Pushed {
			fmt.Fprintf(&b, "Pushed %s to %s\n", p.Result.Branch, p.Result.Remote)
		}
		if pr := p.Result.PullRequest; pr != nil {
			kind := "pull request"
			if pr.Provider == forge.GitLab {
				kind = "merge request"
			}
			fmt.Fprintf(&b, "Opened %s #%d: %s\n", kind, pr.Number, pr.URL)
		}
	case p.DryRun && len(p.Changes) > 0:
		b.WriteString("\nDry run: nothing was committed.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pullRequestBody is the markdown body of the pull request: the plan table,
// the keys on one side only, the health gates, the blast radius with its
// danger flags and the --diff preview, which gets what is left
// of diff.MarkdownLimit (below GitHub's 65,536-character limit) after the
// rest of the body.
func pullRequestBody(p *Plan) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Promotes **%s** at `%s` (%s) to **%s**.\n\n", p.From.Environment, short(p.From.Commit), p.From.Revision, p.To.Environment)
	b.WriteString("| Key | Kind | File | Current | New |\n|---|---|---|---|---|\n")
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "| `%s` | %s | `%s:%d` | `%s` | `%s` |\n", mdCell(c.Key), c.Kind, mdCell(c.File), c.Line, mdCell(c.Current), mdCell(c.New))
	}
	b.WriteString("\n")
	list := func(title string, pins []pipeline.Pin) {
		if len(pins) == 0 {
			return
		}
		keys := make([]string, len(pins))
		for i, pin := range pins {
			keys[i] = "`" + mdCell(pin.Key) + "`"
		}
		fmt.Fprintf(&b, "%s: %s\n\n", title, strings.Join(keys, ", "))
	}
	list("Only in "+p.From.Environment+" (not promoted)", p.OnlyInFrom)
	list("Only in "+p.To.Environment+" (kept)", p.OnlyInTo)
	if len(p.Conflicts) > 0 {
		keys := make([]string, len(p.Conflicts))
		for i, c := range p.Conflicts {
			keys[i] = "`" + mdCell(c.Key) + "`"
		}
		fmt.Fprintf(&b, "Conflicting in %s (not promoted): %s\n\n", p.From.Environment, strings.Join(keys, ", "))
	}
	writeEvidenceMarkdown(&b, p)
	footer := fmt.Sprintf("_Opened by `kubectl c5c3 promote %s %s`._\n", p.From.Environment, p.To.Environment)
	if p.Preview != nil {
		open := fmt.Sprintf("<details><summary>Preview: the edited %s against its clusters</summary>\n\n", p.To.Environment)
		closing := "\n</details>\n\n"
		budget := diff.MarkdownLimit - b.Len() - len(open) - len(closing) - len(footer)
		if budget < previewMinimum {
			budget = previewMinimum
		}
		var md strings.Builder
		if err := diff.WriteMarkdown(&md, previewShown(p.Preview), budget); err != nil {
			return "", fmt.Errorf("rendering the --diff preview: %w", err)
		}
		b.WriteString(open + md.String() + closing)
	}
	b.WriteString(footer)
	return b.String(), nil
}

// previewShown is the preview as rendered next to the blast radius, which
// lists its danger flags: without them, so they are not listed twice.
func previewShown(r *diff.Result) *diff.Result {
	c := *r
	c.Dangers = nil
	return &c
}

// previewMinimum is the least room the preview gets in the body, however
// long the plan table: its summary always fits.
const previewMinimum = 4000

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "\n", " ")
}

// blastHeader is the blast radius table's header.
var blastHeader = []string{"CLUSTER", "CREATED", "CHANGED", "DELETED", "DANGERS"}

// writeBlastText writes the blast radius: a row per target cluster, then
// each danger flag.
func writeBlastText(w io.Writer, br *BlastRadius, pal printers.Palette) error {
	fmt.Fprintf(w, "\n%s\n", pal.Bold("Blast radius on "+br.Environment+":"))
	rows := make([][]string, 0, len(br.Clusters))
	for _, c := range br.Clusters {
		rows = append(rows, []string{c.Cluster, strconv.Itoa(c.Created), strconv.Itoa(c.Changed), strconv.Itoa(c.Deleted), strconv.Itoa(len(c.Dangers))})
	}
	if err := printers.Table(w, blastHeader, rows); err != nil {
		return err
	}
	var b strings.Builder
	for _, c := range br.Clusters {
		for _, d := range c.Dangers {
			fmt.Fprintf(&b, "%s %s: %s\n", pal.Red("DANGER"), c.Cluster, d.String())
		}
	}
	for _, g := range br.Incomplete {
		fmt.Fprintf(&b, "%s %s\n", pal.Red("INCOMPLETE"), g)
	}
	switch {
	case len(br.Incomplete) > 0:
		fmt.Fprintf(&b, "%s\n", pal.Red(diff.IncompleteNote(br.Incomplete)+": the counts and danger flags cover only the rest"))
	case br.Dangers == 0:
		b.WriteString("no danger flags\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeEvidenceMarkdown writes the health gates and the blast radius for
// the pull request body.
func writeEvidenceMarkdown(b *strings.Builder, p *Plan) {
	if h := p.HealthCheck; h != nil && len(h.Gates) > 0 {
		fmt.Fprintf(b, "**Evidence** (%s):\n\n| Gate | Result | Evidence |\n|---|---|---|\n", p.From.Environment)
		for _, g := range h.Gates {
			verdict := "✅ pass"
			if !g.Passed {
				verdict = "❌ fail"
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", g.Name, verdict, mdCell(g.Evidence))
		}
		b.WriteString("\n")
		for _, pr := range h.AllProblems() {
			fmt.Fprintf(b, "- %s\n", mdCell(pr))
		}
		if !h.Healthy {
			b.WriteString("\n_Promoted with `--skip-health-check`._\n\n")
		}
	}
	br := p.BlastRadius
	if br == nil {
		return
	}
	fmt.Fprintf(b, "**Blast radius** on %s:\n\n| Cluster | Created | Changed | Deleted | Dangers |\n|---|---|---|---|---|\n", br.Environment)
	for _, c := range br.Clusters {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", mdCell(c.Cluster), c.Created, c.Changed, c.Deleted, len(c.Dangers))
	}
	b.WriteString("\n")
	for _, c := range br.Clusters {
		for _, d := range c.Dangers {
			fmt.Fprintf(b, "- ⚠️ **%s** on %s: `%s`%s — %s\n", d.Flag, mdCell(c.Cluster), mdCell(d.Object), mdCell(d.Via()), mdCell(d.Message))
		}
	}
	for _, g := range br.Incomplete {
		fmt.Fprintf(b, "- ❌ **incomplete**: %s\n", mdCell(g.String()))
	}
	switch {
	case len(br.Incomplete) > 0:
		note := diff.IncompleteNote(br.Incomplete)
		fmt.Fprintf(b, "\n**%s**: the counts and danger flags cover only the rest.\n", strings.ToUpper(note[:1])+note[1:])
	case br.Dangers == 0:
		b.WriteString("No danger flags.\n")
	}
	b.WriteString("\n")
}
