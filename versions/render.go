package versions

import (
	"fmt"
	"io"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// RenderOptions configure the table and markdown renderers.
type RenderOptions struct {
	// Palette colours the skew, unreachable cells and the summary line
	// (off: plain text).
	Palette printers.Palette
}

// skewText is how the table names a kind of skew.
func skewText(kind, previous string) string {
	switch kind {
	case SkewGitApplied:
		return "git≠applied"
	case SkewAppliedRunning:
		return "applied≠running"
	case SkewPipeline:
		return "not in " + previous
	}
	return kind
}

// row is one line of the table: a component in an environment, on one
// target.
type row struct {
	component, env, cluster, git, applied, running, skew string
}

// rows flattens the matrix: one row per target of each cell (one for a
// cell without targets), the component named on its first row only.
func rows(m *Matrix) []row {
	prev := map[string]string{}
	envErr := map[string]string{}
	for _, e := range m.Environments {
		prev[e.Name], envErr[e.Name] = e.Previous, e.Error
	}
	var out []row
	for _, c := range m.Components {
		first := true
		for _, cell := range c.Environments {
			git := cell.Git
			if git == "" {
				git = "-"
			}
			base := row{env: cell.Environment, git: git, cluster: "-", applied: "-", running: "-"}
			if first {
				base.component, first = c.Key, false
			}
			var cellSkew []string
			if hasSkew(cell.Skew, SkewPipeline) {
				cellSkew = append(cellSkew, skewText(SkewPipeline, prev[cell.Environment]))
			}
			if cell.Git != "" && envErr[cell.Environment] != "" {
				base.applied, base.running = "?", "?"
				cellSkew = append(cellSkew, "hub not read")
			}
			if len(cell.Targets) == 0 {
				base.skew = strings.Join(cellSkew, ", ")
				out = append(out, base)
				continue
			}
			for i, t := range cell.Targets {
				r := base
				if i > 0 {
					r.component, r.env, r.git = "", "", ""
				}
				if t.Cluster != "" {
					r.cluster = t.Cluster
				}
				if t.Applied != "" {
					r.applied = t.Applied
				}
				if t.Attempted != "" {
					r.applied += " (attempted " + t.Attempted + ")"
				}
				if len(t.Running) > 0 {
					r.running = strings.Join(t.Running, ", ")
				}
				if !t.Reachable {
					if t.Applied == "" {
						r.applied = "unreachable"
					}
					if c.Kind == "image" {
						r.running = "unreachable"
					}
				}
				var s []string
				for _, k := range t.Skew {
					s = append(s, skewText(k, ""))
				}
				if i == 0 {
					s = append(s, cellSkew...)
				}
				r.skew = strings.Join(s, ", ")
				out = append(out, r)
			}
		}
	}
	return out
}

func hasSkew(list []string, kind string) bool {
	for _, k := range list {
		if k == kind {
			return true
		}
	}
	return false
}

// WriteTable renders one row per component, environment and target —
// COMPONENT ENVIRONMENT CLUSTER GIT APPLIED RUNNING SKEW, skew in red — then
// the problems of environments and clusters and a summary line.
func WriteTable(w io.Writer, m *Matrix, o RenderOptions) error {
	var data [][]string
	p := o.Palette
	for _, r := range rows(m) {
		for _, c := range []*string{&r.applied, &r.running} {
			if *c == "unreachable" {
				*c = p.Red(*c)
			}
		}
		if r.skew != "" {
			r.skew = p.Red(r.skew)
		}
		data = append(data, []string{r.component, r.env, r.cluster, r.git, r.applied, r.running, r.skew})
	}
	if err := printers.Table(w, []string{"COMPONENT", "ENVIRONMENT", "CLUSTER", "GIT", "APPLIED", "RUNNING", "SKEW"}, data); err != nil {
		return err
	}
	if in := inputRows(m); len(in) > 0 {
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
		if err := printers.Table(w, inputHeader, in); err != nil {
			return err
		}
	}
	for _, n := range notes(m) {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, summaryLine(m.Summary, o.Palette))
	return err
}

// notes are the lines under the table: environments whose hub could not be
// read, unreachable clusters, and targets with an error.
func notes(m *Matrix) []string {
	var out []string
	for _, e := range m.Environments {
		if e.Error != "" {
			out = append(out, fmt.Sprintf("environment %s: %s", e.Name, oneLine(e.Error)))
		}
		for _, c := range e.Clusters {
			if !c.Reachable {
				out = append(out, fmt.Sprintf("environment %s: %s", e.Name, oneLine(c.Error)))
			}
		}
		for _, rs := range e.ResourceSets {
			if rs.Error != "" {
				out = append(out, fmt.Sprintf("environment %s: %s", e.Name, oneLine(rs.Error)))
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range m.Components {
		for _, cell := range c.Environments {
			for _, t := range cell.Targets {
				if t.Error != "" && t.Reachable && !seen[t.Error] {
					seen[t.Error] = true
					out = append(out, fmt.Sprintf("%s in %s: %s", c.Key, cell.Environment, oneLine(t.Error)))
				}
			}
		}
	}
	if len(out) > 0 {
		out = append([]string{""}, out...)
	}
	return out
}

func summaryLine(s Summary, p printers.Palette) string {
	line := fmt.Sprintf("%s in %s: %d with skew (git≠applied %d, applied≠running %d, pipeline %d)",
		plural(s.Components, "component"), plural(s.Environments, "environment"), s.Skewed, s.GitApplied, s.AppliedRunning, s.Pipeline)
	if s.Unreachable > 0 {
		line += fmt.Sprintf(", %d unreachable", s.Unreachable)
	}
	if s.Errors > 0 {
		line += fmt.Sprintf(", %s not read", plural(s.Errors, "environment"))
	}
	if s.Skewed == 0 && s.Unreachable == 0 && s.Errors == 0 {
		return p.Green("in sync") + ": " + line
	}
	return p.Red("skew") + ": " + line
}

// WriteMarkdown renders the same rows as a GitHub-flavoured markdown table
// (for pull requests and issues), with the notes and summary below.
func WriteMarkdown(w io.Writer, m *Matrix) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Versions at `%s` (%s)\n\n", short(m.Commit), m.Revision)
	b.WriteString("| component | environment | cluster | git | applied | running | skew |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows(m) {
		cells := []string{r.component, r.env, r.cluster, r.git, r.applied, r.running, r.skew}
		for i, c := range cells {
			switch {
			case c == "" || c == "-":
			case i == 6:
				c = "**" + c + "**"
			case i >= 3:
				c = "`" + c + "`"
			}
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if in := inputRows(m); len(in) > 0 {
		b.WriteString("\n| " + strings.ToLower(strings.Join(inputHeader, " | ")) + " |\n|---|---|---|---|---|---|\n")
		for _, cells := range in {
			for i, c := range cells {
				if i == 5 && c != "-" {
					c = "`" + c + "`"
				}
				cells[i] = strings.ReplaceAll(c, "|", `\|`)
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
	}
	for _, n := range notes(m) {
		if n != "" {
			b.WriteString("\n- " + strings.ReplaceAll(n, "|", `\|`))
		}
	}
	b.WriteString("\n\n" + summaryLine(m.Summary, printers.Palette{}) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
