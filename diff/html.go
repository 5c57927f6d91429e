package diff

import (
	"html/template"
	"io"
	"strings"
)

// WriteHTML renders the result as one self-contained HTML page for a CI
// artifact: inline CSS, no script and nothing fetched. The summary, the
// danger flags and the images come first, then a collapsible section
// (<details>) per cluster and, in it, per Kustomization and HelmRelease,
// with the coloured unified diffs (Secret values masked, as in every
// format).
func WriteHTML(w io.Writer, r *Result) error {
	return htmlPage.Execute(w, htmlView(r))
}

type htmlCluster struct {
	Name    string
	Changes int
	Owners  []htmlOwner
}

type htmlOwner struct {
	Title   string
	Error   string
	Objects []htmlObject
}

type htmlObject struct {
	ID, Action, Note, Error string
	Lines                   []htmlLine
}

type htmlLine struct{ Class, Text string }

type htmlData struct {
	R        *Result
	Dangers  []Danger
	Gaps     []string
	Note     string
	Images   []htmlImage
	Clusters []htmlCluster
}

type htmlImage struct{ Cluster, Change, Image, Objects string }

// htmlView groups the result as the page shows it: per cluster the
// Kustomizations applied to it, then the HelmReleases whose target it is.
func htmlView(r *Result) htmlData {
	d := htmlData{R: r, Dangers: flagged(r)}
	if len(r.Incomplete) > 0 {
		d.Note = IncompleteNote(r.Incomplete)
		for _, g := range r.Incomplete {
			d.Gaps = append(d.Gaps, g.String())
		}
	}
	for _, c := range r.Images {
		for _, ch := range c.Changed {
			d.Images = append(d.Images, htmlImage{c.Cluster, "changed", ch.From + " → " + ch.To, strings.Join(ch.Objects, ", ")})
		}
		for _, ch := range c.Added {
			d.Images = append(d.Images, htmlImage{c.Cluster, "added", ch.To, strings.Join(ch.Objects, ", ")})
		}
		for _, ch := range c.Removed {
			d.Images = append(d.Images, htmlImage{c.Cluster, "removed", ch.From, strings.Join(ch.Objects, ", ")})
		}
	}
	var order []string
	clusters := map[string]*htmlCluster{}
	cluster := func(name string) *htmlCluster {
		if clusters[name] == nil {
			clusters[name] = &htmlCluster{Name: name}
			order = append(order, name)
		}
		return clusters[name]
	}
	objects := func(c, ks, hr string) []htmlObject {
		var out []htmlObject
		for _, o := range r.Objects {
			if o.Cluster != c || o.Kustomization != ks || o.HelmRelease != hr {
				continue
			}
			ho := htmlObject{ID: o.ID(), Action: string(o.Action), Note: o.Reason, Error: o.Error}
			for _, l := range splitLines(o.Diff) {
				class := ""
				switch {
				case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
					class = "file"
				case strings.HasPrefix(l, "@@"):
					class = "hunk"
				case strings.HasPrefix(l, "+"):
					class = "add"
				case strings.HasPrefix(l, "-"):
					class = "del"
				}
				ho.Lines = append(ho.Lines, htmlLine{class, l})
			}
			out = append(out, ho)
		}
		return out
	}
	for _, k := range r.Kustomizations {
		c := cluster(k.Cluster)
		ow := htmlOwner{Title: "Kustomization " + k.ID() + " (" + k.Path + ")", Error: k.Error, Objects: objects(k.Cluster, k.ID(), "")}
		if k.New {
			ow.Title += " — new, diffed from git"
		}
		if ow.Error != "" || len(ow.Objects) > 0 {
			c.Owners = append(c.Owners, ow)
			c.Changes += len(ow.Objects)
		}
	}
	for _, h := range r.HelmReleases {
		c := cluster(h.Cluster)
		ow := htmlOwner{Title: "HelmRelease " + h.ID() + " → release " + h.ReleaseNamespace + "/" + h.Release, Error: h.Error, Objects: objects(h.Cluster, h.Kustomization, h.ID())}
		if pr := h.Prediction; pr != nil && h.Error == "" {
			from := pr.FromVersion
			if from == "" {
				from = "(none)"
			}
			ow.Title += ": chart " + h.Chart + " " + from + " → " + pr.ToVersion + ", " + string(pr.Plan)
		}
		if ow.Error != "" || len(ow.Objects) > 0 {
			c.Owners = append(c.Owners, ow)
			c.Changes += len(ow.Objects)
		}
	}
	for _, name := range order {
		if c := clusters[name]; len(c.Owners) > 0 {
			d.Clusters = append(d.Clusters, *c)
		}
	}
	return d
}

var htmlPage = template.Must(template.New("diff").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kubectl c5c3 diff</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1f2328;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5em 1em;border-radius:6px}
.bad{background:#ffebe9;border:1px solid #ff8182;padding:.5em 1em;border-radius:6px}
details{margin:.4em 0}summary{cursor:pointer;font-weight:600}
details details{margin-left:1.2em}
.obj{margin:.6em 0 .6em 1.2em}
.action-created{color:#1a7f37}.action-deleted,.action-error{color:#cf222e}.action-drifted,.action-skipped{color:#9a6700}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;font-size:.85em;line-height:1.35;margin:.3em 0}
pre span{display:block;white-space:pre}
.add{background:#dafbe1;color:#116329}.del{background:#ffebe9;color:#82071e}.hunk{color:#0550ae}.file{font-weight:700}
code{font-size:.9em}
</style>
</head>
<body>
<h1>kubectl c5c3 diff</h1>
<p id="summary"><strong>{{.R.Summary.Created}} created, {{.R.Summary.Drifted}} drifted, {{.R.Summary.Deleted}} deleted</strong>, {{.R.Summary.Unchanged}} unchanged, {{.R.Summary.Skipped}} skipped, {{.R.Summary.Errors}} errors{{if .R.Source}} — source <code>{{.R.Source}}</code>{{end}}</p>
{{if .Note}}<div class="bad" id="incomplete"><strong>{{.Note}}</strong><ul>{{range .Gaps}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
<h2>Danger flags</h2>
{{if .Dangers}}<div class="warn" id="dangers"><ul>{{range .Dangers}}<li><strong>{{.Flag}}</strong> on {{.Cluster}}: <code>{{.Object}}</code>{{.Via}} — {{.Message}}</li>{{end}}</ul></div>{{else}}<p id="dangers">No danger flags.</p>{{end}}
<h2>Images</h2>
{{if .Images}}<table id="images"><tr><th>Cluster</th><th>Change</th><th>Image</th><th>Objects</th></tr>
{{range .Images}}<tr><td>{{.Cluster}}</td><td>{{.Change}}</td><td><code>{{.Image}}</code></td><td>{{.Objects}}</td></tr>
{{end}}</table>{{else}}<p id="images">No image changes.</p>{{end}}
<h2>Summary</h2>
<table id="counts"><tr><th>Cluster</th><th>Kustomization</th><th>Path</th><th>Created</th><th>Drifted</th><th>Deleted</th><th>Unchanged</th><th>Skipped</th><th>Errors</th></tr>
{{range .R.Kustomizations}}<tr><td>{{.Cluster}}</td><td>{{.Namespace}}/{{.Name}}</td><td>{{.Path}}</td><td>{{.Counts.Created}}</td><td>{{.Counts.Drifted}}</td><td>{{.Counts.Deleted}}</td><td>{{.Counts.Unchanged}}</td><td>{{.Counts.Skipped}}</td><td>{{.Counts.Errors}}{{if .Error}} (failed){{end}}</td></tr>
{{end}}{{range .R.HelmReleases}}<tr><td>{{.Cluster}}</td><td>HelmRelease/{{.Namespace}}/{{.Name}}</td><td>(chart {{.Chart}})</td><td>{{.Counts.Created}}</td><td>{{.Counts.Drifted}}</td><td>{{.Counts.Deleted}}</td><td>{{.Counts.Unchanged}}</td><td>{{.Counts.Skipped}}</td><td>{{.Counts.Errors}}{{if .Error}} (failed){{end}}</td></tr>
{{end}}</table>
{{if .R.Skipped}}<p>Kustomizations not diffed:</p><ul>{{range .R.Skipped}}<li>{{.Namespace}}/{{.Name}}: {{.Reason}}</li>{{end}}</ul>{{end}}
<h2>Changes</h2>
{{range .Clusters}}<details class="cluster" id="cluster-{{.Name}}"><summary>cluster {{.Name}}: {{.Changes}} changed or failed</summary>
{{range .Owners}}<details class="owner"><summary>{{.Title}}</summary>
{{if .Error}}<p class="action-error">✗ error: {{.Error}}</p>{{end}}
{{range .Objects}}<div class="obj"><strong>► {{.ID}} <span class="action-{{.Action}}">{{.Action}}</span></strong>{{if .Note}} ({{.Note}}){{end}}{{if .Error}}: <span class="action-error">{{.Error}}</span>{{end}}
{{if .Lines}}<pre>{{range .Lines}}<span class="{{.Class}}">{{.Text}}</span>{{end}}</pre>{{end}}</div>
{{end}}</details>
{{end}}</details>
{{else}}<p>No changes.</p>
{{end}}</body>
</html>
`))
