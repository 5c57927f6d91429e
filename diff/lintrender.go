package diff

import (
	"fmt"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// flagged are the danger flags to list: all but the incomplete ones,
// which the plan's incomplete section names.
func flagged(r *Result) []Danger {
	var out []Danger
	for _, d := range r.Dangers {
		if d.Flag != DangerIncomplete {
			out = append(out, d)
		}
	}
	return out
}

// writeDangersText lists the danger flags, a "DANGER cluster: ..." line
// each.
func writeDangersText(b *strings.Builder, r *Result, p printers.Palette) {
	ds := flagged(r)
	if len(ds) == 0 {
		return
	}
	fmt.Fprintf(b, "%s\n", p.Bold(fmt.Sprintf("Danger flags (%d):", len(ds))))
	for _, d := range ds {
		fmt.Fprintf(b, "  %s %s: %s\n", p.Red("DANGER"), d.Cluster, d)
	}
	b.WriteString("\n")
}

// imageLines are the images summary's lines of one cluster: "a → b",
// "+ a", "- a", each with the objects.
func imageLines(c ClusterImages) []string {
	var out []string
	objs := func(ch ImageChange) string { return " (" + strings.Join(ch.Objects, ", ") + ")" }
	for _, ch := range c.Changed {
		out = append(out, ch.From+" → "+ch.To+objs(ch))
	}
	for _, ch := range c.Added {
		out = append(out, "+ "+ch.To+objs(ch))
	}
	for _, ch := range c.Removed {
		out = append(out, "- "+ch.From+objs(ch))
	}
	return out
}

// writeImagesText is the images summary per cluster.
func writeImagesText(b *strings.Builder, r *Result, p printers.Palette) {
	if len(r.Images) == 0 {
		return
	}
	fmt.Fprintf(b, "%s\n", p.Bold("Images:"))
	for _, c := range r.Images {
		for _, l := range imageLines(c) {
			fmt.Fprintf(b, "  %s: %s\n", c.Cluster, l)
		}
	}
	b.WriteString("\n")
}

// writeMarkdownDangers is the warning block of the danger flags.
func writeMarkdownDangers(b *strings.Builder, r *Result) {
	ds := flagged(r)
	if len(ds) == 0 {
		return
	}
	fmt.Fprintf(b, "> :warning: **%d danger %s**\n>\n", len(ds), map[bool]string{true: "flag", false: "flags"}[len(ds) == 1])
	for _, d := range ds {
		fmt.Fprintf(b, "> - **%s** on %s: `%s`%s — %s\n", d.Flag, mdCell(d.Cluster), mdCode(d.Object), mdCell(d.Via()), mdCell(d.Message))
	}
	b.WriteString("\n")
}

// writeMarkdownImages is the images summary as a table.
func writeMarkdownImages(b *strings.Builder, r *Result) {
	if len(r.Images) == 0 {
		return
	}
	b.WriteString("**Images**\n\n| Cluster | Change | Image | Objects |\n|---|---|---|---|\n")
	row := func(cluster, change, image string, objs []string) {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCell(cluster), change, image, mdCell(strings.Join(objs, ", ")))
	}
	for _, c := range r.Images {
		for _, ch := range c.Changed {
			row(c.Cluster, "changed", "`"+mdCode(ch.From)+"` → `"+mdCode(ch.To)+"`", ch.Objects)
		}
		for _, ch := range c.Added {
			row(c.Cluster, "added", "`"+mdCode(ch.To)+"`", ch.Objects)
		}
		for _, ch := range c.Removed {
			row(c.Cluster, "removed", "`"+mdCode(ch.From)+"`", ch.Objects)
		}
	}
	b.WriteString("\n")
}

// mdCode is a table cell's text inside backticks.
func mdCode(s string) string {
	return strings.ReplaceAll(mdCell(s), "`", "'")
}
