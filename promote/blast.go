package promote

import (
	"fmt"
	"strings"

	"github.com/c5c3/kubectl-c5c3/diff"
)

// BlastRadius is what the promotion does to each target cluster, from the
// --diff dry run.
type BlastRadius struct {
	Environment string         `json:"environment"`
	Clusters    []ClusterBlast `json:"clusters"`
	// Dangers counts the danger flags over all clusters.
	Dangers int `json:"dangers"`
	// Complete is false when a Kustomization or HelmRelease of the
	// preview could not be rendered or diffed (Incomplete says which and
	// why): the counts and flags cover only the rest.
	Complete   bool       `json:"complete"`
	Incomplete []diff.Gap `json:"incomplete"`
}

// ClusterBlast is one target cluster's share.
type ClusterBlast struct {
	Cluster string `json:"cluster"`
	// Created, Changed and Deleted count objects (rendered HelmRelease
	// objects included); a recreated object counts as changed.
	Created int           `json:"created"`
	Changed int           `json:"changed"`
	Deleted int           `json:"deleted"`
	Dangers []diff.Danger `json:"dangers"`
}

// DangerError is returned when --fail-on-danger refuses a promotion.
type DangerError struct {
	Blast *BlastRadius
}

func (e *DangerError) Error() string {
	var lines []string
	for _, c := range e.Blast.Clusters {
		for _, d := range c.Dangers {
			lines = append(lines, c.Cluster+": "+d.String())
		}
	}
	for _, g := range e.Blast.Incomplete {
		lines = append(lines, "incomplete: "+g.String())
	}
	what := fmt.Sprintf("raised %d danger %s", e.Blast.Dangers, plural(e.Blast.Dangers, "flag", "flags"))
	if n := len(e.Blast.Incomplete); n > 0 {
		gaps := fmt.Sprintf("is incomplete (%d %s could not be rendered or diffed)", n, plural(n, "Kustomization or HelmRelease", "Kustomizations or HelmReleases"))
		if e.Blast.Dangers == 0 {
			what = gaps
		} else {
			what = gaps + " and " + what
		}
	}
	return fmt.Sprintf("the preview of %s %s, refusing to promote (--fail-on-danger):\n  %s",
		e.Blast.Environment, what, strings.Join(lines, "\n  "))
}

// Refused reports whether --fail-on-danger refuses the promotion: a
// danger flag, or a preview that could not be completed.
func (b *BlastRadius) Refused() bool { return b.Dangers > 0 || len(b.Incomplete) > 0 }

// blastRadius summarises a preview per cluster with the danger flags diff
// raised on it.
func blastRadius(env string, res *diff.Result) *BlastRadius {
	b := &BlastRadius{Environment: env, Clusters: []ClusterBlast{}, Complete: len(res.Incomplete) == 0, Incomplete: append([]diff.Gap{}, res.Incomplete...)}
	index := map[string]int{}
	cluster := func(name string) *ClusterBlast {
		i, ok := index[name]
		if !ok {
			i = len(b.Clusters)
			index[name] = i
			b.Clusters = append(b.Clusters, ClusterBlast{Cluster: name, Dangers: []diff.Danger{}})
		}
		return &b.Clusters[i]
	}
	for _, k := range res.Kustomizations {
		cluster(k.Cluster)
	}
	for _, h := range res.HelmReleases {
		cluster(h.Cluster)
	}
	for _, o := range res.Objects {
		c := cluster(o.Cluster)
		switch {
		case o.Recreate:
			c.Changed++
		case o.Action == diff.ActionCreated:
			c.Created++
		case o.Action == diff.ActionDrifted:
			c.Changed++
		case o.Action == diff.ActionDeleted:
			c.Deleted++
		}
	}
	for _, d := range res.Dangers {
		if d.Flag == diff.DangerIncomplete {
			continue // Incomplete names them
		}
		c := cluster(d.Cluster)
		c.Dangers = append(c.Dangers, d)
		b.Dangers++
	}
	return b
}
