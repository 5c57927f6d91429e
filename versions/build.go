package versions

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// Build reads the checkout and every environment's hub and returns the
// matrix. Errors are about the input — no checkout, no or a bad
// c5c3.yaml, an unknown environment, a pin file that is not YAML; a hub
// that cannot be read is recorded in its Environment (Summary.Errors) and a
// spoke that cannot be reached in the targets it concerns.
func Build(ctx context.Context, o Options) (*Matrix, error) {
	b := &builder{o: o, pins: map[string]map[string][]pipeline.Pin{}, fleets: map[string]*fleetResult{}}
	return b.build(ctx)
}

type builder struct {
	o      Options
	git    *gitrepo.Git
	commit string
	pins   map[string]map[string][]pipeline.Pin // by commit and environment, then key
	fleets map[string]*fleetResult              // by kubeconfig context
}

type fleetResult struct {
	f   *fleet.Fleet
	err error
}

// envData is one environment being read.
type envData struct {
	cfg      *pipeline.Environment
	out      *Environment
	pins     map[string][]pipeline.Pin // at the read commit, by key
	fleet    *fleet.Fleet
	appliers []*applier
	probes   map[string]fleet.ProbeResult
	cells    map[string]*Cell
	// workloads are the appliers' live workloads (running), listed once.
	workloads    workloads
	prefetchOnce sync.Once
}

// applier is one hub Kustomization of an environment.
type applier struct {
	ks      *kustomizev1.Kustomization
	cluster *fleet.Cluster
	path    string                    // spec.path, cleaned ("" = the root)
	pins    map[string][]pipeline.Pin // at the applied commit
	err     string                    // why pins is nil
	inv     []invEntry
}

type invEntry struct {
	object.ObjMetadata
	Version string
}

func (a *applier) id() string { return "Kustomization/" + fleet.ID(a.ks) }

func (b *builder) build(ctx context.Context) (*Matrix, error) {
	rev := b.o.Revision
	if rev == "" {
		rev = "HEAD"
	}
	dir := b.o.RepoDir
	if dir == "" {
		dir = "."
	}
	top, err := gitrepo.TopLevel(dir)
	if err != nil {
		return nil, err
	}
	b.git = &gitrepo.Git{Dir: top}
	if b.commit, err = b.git.Commit(ctx, rev); err != nil {
		return nil, fmt.Errorf("--revision: %w", err)
	}
	cfgFile := filepath.Join(top, pipeline.ConfigFile)
	data, ok, err := b.git.Show(ctx, b.commit, pipeline.ConfigFile)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no %s at %s (%s): declare the environments there (see the README)", pipeline.ConfigFile, rev, cfgFile)
	}
	cfg, err := pipeline.ParseConfig(cfgFile+" (at "+rev+")", data)
	if err != nil {
		return nil, err
	}
	order, prev := pipelineOrder(cfg)
	shown := map[string]bool{}
	for _, n := range b.o.Environments {
		if _, err := cfg.Environment(n); err != nil {
			return nil, err
		}
		shown[n] = true
	}
	if len(shown) == 0 {
		for _, e := range order {
			shown[e.Name] = true
		}
	}
	read := map[string]bool{}
	for n := range shown {
		read[n] = true
		if p := prev[n]; p != "" {
			read[p] = true
		}
	}
	origin, _ := gitrepo.RemoteURL(top, pipeline.PushRemote)

	envs := map[string]*envData{}
	for _, e := range order {
		if !read[e.Name] {
			continue
		}
		pins, err := b.pinsAt(ctx, b.commit, e)
		if err != nil {
			return nil, err
		}
		ed := &envData{cfg: e, pins: pins, cells: map[string]*Cell{},
			out: &Environment{Name: e.Name, Previous: prev[e.Name], Context: e.Context, Appliers: []Applier{}, Clusters: []Cluster{}}}
		b.readHub(ctx, ed, origin)
		envs[e.Name] = ed
	}

	m := &Matrix{APIVersion: APIVersion, Kind: Kind, Revision: rev, Commit: b.commit, Environments: []Environment{}, Components: []Component{}}
	keys := map[string]pipeline.Pin{}
	for n, ed := range envs {
		for k, p := range ed.pins {
			if shown[n] {
				keys[k] = p[0]
			}
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, e := range order {
		if ed := envs[e.Name]; ed != nil {
			for _, k := range sorted {
				c := b.cell(ctx, ed, k)
				ed.cells[k] = &c
			}
		}
	}
	for _, e := range order {
		if ed := envs[e.Name]; ed != nil && ed.out.Previous != "" {
			for _, k := range sorted {
				b.pipeline(ctx, ed.cells[k], envs[ed.out.Previous].cells[k], ed.out.Previous)
			}
		}
	}
	for _, e := range order {
		if ed := envs[e.Name]; ed != nil {
			if ed.out.Error != "" {
				m.Summary.Errors++
			}
			if shown[e.Name] {
				m.Environments = append(m.Environments, *ed.out)
			}
		}
	}
	for _, k := range sorted {
		c := Component{Key: k, Kind: keys[k].Kind, Field: keys[k].Field, Environments: []Cell{}}
		for _, e := range order {
			if !shown[e.Name] {
				continue
			}
			cell := envs[e.Name].cells[k]
			c.Environments = append(c.Environments, *cell)
			m.Summary.count(cell)
		}
		m.Components = append(m.Components, c)
	}
	m.Summary.Components, m.Summary.Environments = len(m.Components), len(m.Environments)
	return m, nil
}

// count adds a cell to the summary.
func (s *Summary) count(c *Cell) {
	if len(c.Skew) > 0 {
		s.Skewed++
	}
	for _, k := range c.Skew {
		switch k {
		case SkewGitApplied:
			s.GitApplied++
		case SkewAppliedRunning:
			s.AppliedRunning++
		case SkewPipeline:
			s.Pipeline++
		}
	}
	for _, t := range c.Targets {
		if !t.Reachable {
			s.Unreachable++
		}
	}
}

// pipelineOrder lists the environments in pipeline order — the pipeline's
// entries, then the others as declared — and names the one before each:
// its predecessor in the pipeline, or in declaration order without one.
func pipelineOrder(cfg *pipeline.Config) ([]*pipeline.Environment, map[string]string) {
	prev := map[string]string{}
	var order []*pipeline.Environment
	in := map[string]bool{}
	for i, n := range cfg.Pipeline {
		e, _ := cfg.Environment(n)
		order = append(order, e)
		in[n] = true
		if i > 0 {
			prev[n] = cfg.Pipeline[i-1]
		}
	}
	for i := range cfg.Environments {
		e := &cfg.Environments[i]
		if in[e.Name] {
			continue
		}
		if len(cfg.Pipeline) == 0 && i > 0 {
			prev[e.Name] = cfg.Environments[i-1].Name
		}
		order = append(order, e)
	}
	return order, prev
}

// pinsAt scans an environment's files at commit (cached).
func (b *builder) pinsAt(ctx context.Context, commit string, env *pipeline.Environment) (map[string][]pipeline.Pin, error) {
	key := commit + "\x00" + env.Name
	if p, ok := b.pins[key]; ok {
		return p, nil
	}
	files, err := b.git.ReadTree(ctx, commit, func(p string) bool { return pipeline.IsYAML(p) && env.Under(p) })
	if err != nil {
		return nil, err
	}
	pins, err := pipeline.Scan(files)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", env.Name, short(commit), err)
	}
	byKey := map[string][]pipeline.Pin{}
	for _, p := range pins {
		byKey[p.Key] = append(byKey[p.Key], p)
	}
	b.pins[key] = byKey
	return byKey, nil
}

// fleetOf discovers an environment's hub, once per kubeconfig context.
func (b *builder) fleetOf(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error) {
	if r := b.fleets[env.Context]; r != nil {
		return r.f, r.err
	}
	r := &fleetResult{}
	if b.o.Fleet == nil {
		r.err = fmt.Errorf("no hub to read environment %s from", env.Name)
	} else {
		r.f, r.err = b.o.Fleet(ctx, env)
	}
	b.fleets[env.Context] = r
	return r.f, r.err
}

// readHub finds the environment's appliers — the Kustomizations promote's
// health gate would check, and the hub Kustomizations their inventories
// list — and probes the clusters they target.
func (b *builder) readHub(ctx context.Context, ed *envData, origin string) {
	f, err := b.fleetOf(ctx, ed.cfg)
	if err != nil {
		ed.out.Error = err.Error()
		return
	}
	ed.fleet = f
	kss, err := pipeline.SelectKustomizations(f, ed.cfg, origin)
	if err != nil {
		ed.out.Error = err.Error()
		return
	}
	type placed struct {
		ks *kustomizev1.Kustomization
		c  *fleet.Cluster
	}
	byID := map[string]placed{}
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			if o.Kustomization != nil {
				byID[fleet.ID(o.Kustomization)] = placed{o.Kustomization, c}
			}
		}
	}
	seen := map[string]bool{}
	queue := append([]*kustomizev1.Kustomization(nil), kss...)
	for i := 0; i < len(queue); i++ {
		ks := queue[i]
		p, ok := byID[fleet.ID(ks)]
		if !ok || seen[fleet.ID(ks)] {
			continue
		}
		seen[fleet.ID(ks)] = true
		a := b.newApplier(ctx, ed, ks, p.c)
		ed.appliers = append(ed.appliers, a)
		if !p.c.Hub {
			continue // Kustomizations it applies to a spoke are not the hub's
		}
		for _, e := range a.inv {
			if e.GroupKind.Group == kustomizev1.GroupVersion.Group && e.GroupKind.Kind == kustomizev1.KustomizationKind {
				if n, ok := byID[e.Namespace+"/"+e.Name]; ok {
					queue = append(queue, n.ks)
				}
			}
		}
	}
	sort.Slice(ed.appliers, func(i, j int) bool { return ed.appliers[i].id() < ed.appliers[j].id() })
	var clusters []*fleet.Cluster
	have := map[string]bool{}
	for _, a := range ed.appliers {
		ed.out.Appliers = append(ed.out.Appliers, a.summary())
		if !have[a.cluster.Name] {
			have[a.cluster.Name] = true
			clusters = append(clusters, a.cluster)
		}
	}
	b.readResourceSets(ctx, ed)
	ed.probes = f.Probe(ctx, clusters)
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	for _, c := range clusters {
		r := ed.probes[c.Name]
		cl := Cluster{Name: c.Name, Reachable: r.Err == nil}
		if r.Err != nil {
			cl.Error = r.Err.Error()
		}
		ed.out.Clusters = append(ed.out.Clusters, cl)
	}
}

// newApplier reads what a Kustomization applied: its inventory and the
// environment's pins at its applied commit.
func (b *builder) newApplier(ctx context.Context, ed *envData, ks *kustomizev1.Kustomization, c *fleet.Cluster) *applier {
	a := &applier{ks: ks, cluster: c, path: cleanPath(ks.Spec.Path)}
	if ks.Status.Inventory != nil {
		for _, e := range ks.Status.Inventory.Entries {
			if om, err := object.ParseObjMetadata(e.ID); err == nil {
				a.inv = append(a.inv, invEntry{ObjMetadata: om, Version: e.Version})
			}
		}
	}
	rev := ks.Status.LastAppliedRevision
	if rev == "" {
		a.err = a.id() + " has applied no revision yet"
		return a
	}
	commit, err := fleet.CommitOf(rev)
	if err != nil {
		a.err = a.id() + ": " + err.Error()
		return a
	}
	if _, err := b.git.Commit(ctx, commit); err != nil {
		a.err = fmt.Sprintf("%s applied commit %s, which the checkout does not have: git fetch, then retry", a.id(), short(commit))
		return a
	}
	if a.pins, err = b.pinsAt(ctx, commit, ed.cfg); err != nil {
		a.err = err.Error()
	}
	return a
}

func (a *applier) summary() Applier {
	out := Applier{Namespace: a.ks.Namespace, Name: a.ks.Name, Path: a.ks.Spec.Path, Cluster: a.cluster.Name,
		AppliedRevision: a.ks.Status.LastAppliedRevision, Error: a.err}
	if c, err := fleet.CommitOf(out.AppliedRevision); err == nil {
		out.Commit = c
	}
	return out
}

// cleanPath turns a Kustomization's spec.path into a repo path: "" for the
// root.
func cleanPath(p string) string {
	if p = fleet.ArtifactPath(p); p == "." {
		return ""
	}
	return p
}

// under reports whether the repo file f is inside dir ("" is the root).
func under(f, dir string) bool {
	return dir == "" || f == dir || strings.HasPrefix(f, dir+"/")
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
