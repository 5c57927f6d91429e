package diff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// BaseInfo names the revision a --base run compared the checkout with.
type BaseInfo struct {
	// Ref is the revision as given (branch, tag or commit).
	Ref string `json:"ref"`
	// Commit is the commit it resolved to.
	Commit string `json:"commit"`
}

// UnchangedItem is a Kustomization or HelmRelease whose build (or spec,
// values and chart) is the same at the base and in the checkout.
type UnchangedItem struct {
	// Kind is Kustomization or HelmRelease.
	Kind      string `json:"kind"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ID is "Kind/namespace/name".
func (u UnchangedItem) ID() string { return u.Kind + "/" + u.Namespace + "/" + u.Name }

// sideBuild is one build of a Kustomization on one side (base or head).
type sideBuild struct {
	id       string
	cluster  *fleet.Cluster
	ks       *kustomizev1.Kustomization
	specHash string
	// skipped: not built, its build is the same on both sides (no file it
	// may read changed) and holds nothing the run needs (a spoke's, or a
	// hub's without Flux objects: hubOutputOf).
	skipped bool
	objects []*unstructured.Unstructured
	inputs  []string
	err     error
	// hash is the build's output (or error) fingerprint.
	hash string
	// hrs are the fingerprints of its HelmReleases, by helmKey.
	hrs map[string]string
}

// made is a build's result, kept by ID and spec for another pass.
type made struct {
	objects []*unstructured.Unstructured
	inputs  []string
	err     error
	hash    string
}

// side is every build a run makes from one tree, in BFS order like the
// engine: roots with their live spec, nested Kustomizations with their
// spec from the tree (each rebuilt at most once).
type side struct {
	// in, when set, tells whether a Kustomization's build cannot differ
	// between the sides (no file it may read changed): a spoke's is then
	// not built at all, nor a hub's whose output holds nothing the run
	// needs (when skipHub), and any other hub's is taken from the other
	// side (from).
	in      *inputCheck
	skipHub bool
	from    *side
	b       *Builder
	builds  []*sideBuild
	byID    map[string][]*sideBuild
	final   map[string]*sideBuild
	// made are the builds b made, by ID and spec, shared with a later
	// pass over the same tree.
	made map[string]*made
}

// buildSide builds every Kustomization reachable from roots with b.
func buildSide(ctx context.Context, f *fleet.Fleet, b *Builder, sources map[string]bool, roots []*kustomizev1.Kustomization, in *inputCheck, skipHub bool, from *side, done map[string]*made) *side {
	s := &side{b: b, byID: map[string][]*sideBuild{}, final: map[string]*sideBuild{}, in: in, skipHub: skipHub, from: from, made: done}
	if s.made == nil {
		s.made = map[string]*made{}
	}
	queue := append([]*kustomizev1.Kustomization(nil), roots...)
	used := map[string]*kustomizev1.Kustomization{}
	rebuilt := map[string]bool{}
	for len(queue) > 0 && ctx.Err() == nil {
		ks := queue[0]
		queue = queue[1:]
		id := fleet.ID(ks)
		if prev, ok := used[id]; ok {
			if apiequality.Semantic.DeepEqual(prev.Spec, ks.Spec) || rebuilt[id] {
				continue
			}
			rebuilt[id] = true
		}
		used[id] = ks
		sb := &sideBuild{id: id, cluster: f.TargetOf(ks.Namespace, ks.Spec.KubeConfig), ks: ks, specHash: hashJSON(ks.Spec)}
		switch prev := s.other(id, sb.specHash); {
		case s.in != nil && s.in.same(ks) && (!sb.cluster.Hub || (s.skipHub && !s.in.output(ks).build)):
			sb.skipped, sb.hash = true, "same" // not built: the engine's build of it is dropped too
		case prev != nil && !prev.skipped && s.in.same(ks):
			sb.objects, sb.inputs, sb.err, sb.hash = prev.objects, prev.inputs, prev.err, prev.hash
		case prev != nil && s.derive(ctx, sb, prev):
		default:
			s.make(ctx, sb)
		}
		s.builds = append(s.builds, sb)
		s.byID[id] = append(s.byID[id], sb)
		s.final[id] = sb
		if sb.err != nil || !sb.cluster.Hub {
			continue
		}
		if r, ok := b.hub.(*buildsReader); ok {
			r.add(sb.objects)
		}
		for _, child := range typedObjects[kustomizev1.Kustomization](sb.objects, kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind).GroupKind()) {
			if sources[fleet.KustomizationSource(child).String()] {
				queue = append(queue, child)
			}
		}
	}
	return s
}

// make builds sb, or takes the build of the same Kustomization and spec
// an earlier pass made — unless its postBuild.substituteFrom reads what
// the builds so far apply (--no-live).
func (s *side) make(ctx context.Context, sb *sideBuild) {
	key := sb.id + "|" + sb.specHash
	_, offline := s.b.hub.(*buildsReader)
	pb := sb.ks.Spec.PostBuild
	if m := s.made[key]; m != nil && !(offline && pb != nil && len(pb.SubstituteFrom) > 0) {
		sb.objects, sb.inputs, sb.err, sb.hash = m.objects, m.inputs, m.err, m.hash
		return
	}
	sb.objects, sb.inputs, sb.err = s.b.BuildWithInputs(ctx, sb.ks)
	sb.hash = buildHash(sb.objects, sb.err)
	s.made[key] = &made{objects: sb.objects, inputs: sb.inputs, err: sb.err, hash: sb.hash}
}

// fill builds what the side skipped but the other side has no build of
// with the same spec (a parent's build changed the spec): the two are
// compared, so both must be made. A hub build made here holds no Flux
// objects (hubOutputOf), so nothing nested is missed.
func (s *side) fill(ctx context.Context, other *side) {
	for _, sb := range s.builds {
		if sb.skipped && other.find(sb.id, sb.specHash) == nil {
			sb.skipped = false
			s.make(ctx, sb)
		}
	}
}

// other is the other side's build of id with spec hash h, when this side
// may take it.
func (s *side) other(id, h string) *sideBuild {
	if s.from == nil || s.in == nil {
		return nil
	}
	return s.from.find(id, h)
}

// find returns the build of id with spec hash h, or nil.
func (s *side) find(id, h string) *sideBuild {
	for _, sb := range s.byID[id] {
		if sb.specHash == h {
			return sb
		}
	}
	return nil
}

// hubValues are the ConfigMaps and Secrets the side's final hub builds
// apply (valuesSources' rules).
func (s *side) hubValues() map[string]*unstructured.Unstructured {
	var ids []string
	builds := map[string]*hubBuild{}
	for _, sb := range s.builds {
		if sb.cluster.Hub && sb.err == nil && s.final[sb.id] == sb {
			ids = append(ids, sb.id)
			builds[sb.id] = &hubBuild{objects: sb.objects}
		}
	}
	return valuesSources(ids, builds)
}

// helmFingerprints sets each build's HelmRelease fingerprints: its spec
// (chart, version, values, ...), the content of each valuesFrom object
// found in its own build or a hub build of the side ("live" otherwise,
// the same on both sides), and the files of a chart that is a path of
// this checkout.
func (s *side) helmFingerprints(sources map[string]bool) {
	hub := s.hubValues()
	charts := map[string]string{}
	for _, sb := range s.builds {
		if sb.err != nil {
			continue
		}
		own := valuesSources(nil, nil, sb.objects)
		sb.hrs = map[string]string{}
		for _, hr := range typedObjects[helmv2.HelmRelease](sb.objects, helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind).GroupKind()) {
			parts := []string{hashJSON(hr.Spec)}
			for _, ref := range hr.Spec.ValuesFrom {
				k := valuesKey(ref.Kind, hr.Namespace, ref.Name)
				v := own[k]
				if v == nil && sb.cluster.Hub {
					v = hub[k]
				}
				if v == nil {
					parts = append(parts, k+"=live")
					continue
				}
				parts = append(parts, k+"="+hashJSON(v.Object))
			}
			if dir := checkoutChartPath(hr, sources); dir != "" {
				if _, ok := charts[dir]; !ok {
					charts[dir] = s.treeHash(dir)
				}
				parts = append(parts, "chart="+charts[dir])
			}
			sb.hrs[helmKey(sb.cluster.Name, hr.Namespace, hr.Name)] = strings.Join(parts, ",")
		}
	}
}

// checkoutChartPath is the chart directory (relative to the checkout) of a
// HelmRelease whose chart is a path of a GitRepository that is this
// checkout, or "".
func checkoutChartPath(hr *helmv2.HelmRelease, sources map[string]bool) string {
	if hr.Spec.Chart == nil {
		return ""
	}
	ref := hr.Spec.Chart.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = hr.Namespace
	}
	if ref.Kind != "GitRepository" || !sources["GitRepository/"+ns+"/"+ref.Name] {
		return ""
	}
	return fleet.ArtifactPath(hr.Spec.Chart.Spec.Chart)
}

// treeHash fingerprints the files of the side's tree under dir.
func (s *side) treeHash(dir string) string {
	view, err := s.b.View(nil)
	if err != nil {
		return "error: " + err.Error()
	}
	h := sha256.New()
	for _, f := range view.Files() {
		if dir != "." && f != dir && !strings.HasPrefix(f, dir+"/") {
			continue
		}
		data, err := s.b.readFile(f)
		if err != nil {
			data = []byte("error: " + err.Error())
		}
		h.Write([]byte(path.Clean(f) + "\x00"))
		h.Write(data)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func helmKey(cluster, namespace, name string) string { return cluster + "|" + namespace + "/" + name }

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "error: " + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func buildHash(objects []*unstructured.Unstructured, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	h := sha256.New()
	for _, o := range objects {
		b, _ := json.Marshal(o.Object)
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// baseScope is what a --base run diffs: the builds of both sides, made
// before the engine runs (which takes the head's from here instead of
// building again), and the decisions drawn from them.
type baseScope struct {
	info       BaseInfo
	head, base *side
}

// newBaseScope reads the base commit with go-git and builds both sides.
// Hub Kustomizations whose output holds nothing the run needs are skipped
// first; when a skipped one may apply a ConfigMap or Secret that a changed
// HelmRelease or a substituteFrom reads (skippedHubNeeded), both sides
// are built again without skipping them, every other build reused.
func newBaseScope(ctx context.Context, f *fleet.Fleet, opts Options, head *Builder, sources map[string]bool, roots []*kustomizev1.Kustomization, configure func(*Builder)) (*baseScope, error) {
	// The checkout's files the base has unchanged are taken from the
	// checkout (the same bytes: same blob hash), not read from git again;
	// every file of the checkout is compared with the base, so all are
	// read, on every CPU.
	if view, err := head.View(nil); err == nil {
		head.readAll(view.Files())
	}
	c, err := gitrepo.ReadCommit(opts.RepoDir, opts.Base, func(p string) []byte {
		if view, err := head.View(nil); err != nil || !view.HasFile(p) {
			return nil
		}
		data, _ := head.readFile(p)
		return data
	})
	if err != nil {
		return nil, err
	}
	bb, err := NewTreeBuilder(opts.RepoDir, c.Files, head.hub, head.strict)
	if err != nil {
		return nil, err
	}
	configure(bb)
	bb.built, bb.like = opts.BaseBuilt, head
	// The base's views (and the spec.ignore its tree defines) are made
	// while the head builds: a build of the base, or derive, waits for
	// them only if they are not ready.
	go func() {
		for _, r := range roots {
			_, _ = bb.viewOf(ctx, r)
		}
	}()
	sc := &baseScope{info: BaseInfo{Ref: opts.Base, Commit: c.Hash}}
	in := unchangedInputs(head, c.Files)
	if in != nil {
		in.live = !opts.NoLive
	}
	sc.buildSides(ctx, f, head, bb, sources, roots, in, true, nil, nil)
	if in != nil && ctx.Err() == nil && sc.skippedHubNeeded() {
		for _, b := range []*Builder{head, bb} {
			if r, ok := b.hub.(*buildsReader); ok {
				r.reset()
			}
		}
		sc.buildSides(ctx, f, head, bb, sources, roots, in, false, sc.head.made, sc.base.made)
	}
	return sc, ctx.Err()
}

// buildSides builds the head, then the base (taking the head's builds
// that cannot differ), makes what one skipped and the other cannot match,
// and fingerprints their HelmReleases.
func (sc *baseScope) buildSides(ctx context.Context, f *fleet.Fleet, head, base *Builder, sources map[string]bool, roots []*kustomizev1.Kustomization, in *inputCheck, skipHub bool, headMade, baseMade map[string]*made) {
	sc.head = buildSide(ctx, f, head, sources, roots, in, skipHub, nil, headMade)
	sc.base = buildSide(ctx, f, base, sources, roots, in, skipHub, sc.head, baseMade)
	sc.head.fill(ctx, sc.base)
	sc.base.fill(ctx, sc.head)
	sc.head.helmFingerprints(sources)
	sc.base.helmFingerprints(sources)
}

// skippedHubNeeded reports whether the hub builds skipped for their
// output must be made after all. Only their ConfigMaps and Secrets can
// matter (hubOutputOf rules out Flux objects), and only when one of them
// may hold some and they may be read: offline by a
// postBuild.substituteFrom (the placeholder hub answers from the builds
// so far); by a hub HelmRelease that changed (it is rendered, with
// valuesFrom and source credentials from the hub builds); or by the
// valuesFrom of an unchanged one, unless the builds that apply (or may
// apply) each of its objects are the same, in the same order, on both
// sides — then it resolves alike on both sides with or without them.
func (sc *baseScope) skippedHubNeeded() bool {
	sides := []*side{sc.head, sc.base}
	values := false
	for _, s := range sides {
		for _, sb := range s.builds {
			values = values || (sb.skipped && sb.cluster.Hub && s.in.output(sb.ks).values)
		}
	}
	if !values {
		return false
	}
	_, offline := sc.head.b.hub.(*buildsReader)
	keys := map[string]bool{}
	for _, s := range sides {
		for _, sb := range s.builds {
			if pb := sb.ks.Spec.PostBuild; offline && pb != nil && len(pb.SubstituteFrom) > 0 {
				return true
			}
			if !sb.cluster.Hub || s.final[sb.id] != sb {
				continue
			}
			for _, hr := range typedObjects[helmv2.HelmRelease](sb.objects, helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind).GroupKind()) {
				key := helmKey(sb.cluster.Name, hr.Namespace, hr.Name)
				if sc.head.hrFingerprint(key) != sc.base.hrFingerprint(key) {
					return true
				}
				for _, ref := range hr.Spec.ValuesFrom {
					keys[valuesKey(ref.Kind, hr.Namespace, ref.Name)] = true
				}
			}
		}
	}
	for k := range keys {
		if !slices.Equal(sc.head.valuesProviders(k), sc.base.valuesProviders(k)) {
			return true
		}
	}
	return false
}

// valuesProviders lists, in build order, the side's final hub builds that
// apply the ConfigMap or Secret k (ID and content) and the skipped ones
// that may (ID and spec).
func (s *side) valuesProviders(k string) []string {
	var out []string
	for _, sb := range s.builds {
		switch {
		case !sb.cluster.Hub || s.final[sb.id] != sb || sb.err != nil:
		case sb.skipped:
			if s.in.output(sb.ks).values {
				out = append(out, sb.id+"@"+sb.specHash)
			}
		default:
			if v := valuesSources(nil, nil, sb.objects)[k]; v != nil {
				out = append(out, sb.id+"="+hashJSON(v.Object))
			}
		}
	}
	return out
}

// prebuilt returns the head's build of ks (by its spec), if made.
func (sc *baseScope) prebuilt(ks *kustomizev1.Kustomization) (*sideBuild, bool) {
	sb := sc.head.find(fleet.ID(ks), hashJSON(ks.Spec))
	return sb, sb != nil
}

// ksChanged reports whether the head's build of ks differs from the
// base's build of the same Kustomization with the same spec (none at the
// base: a new Kustomization or a changed spec), or holds a HelmRelease
// that changed.
func (sc *baseScope) ksChanged(ks *kustomizev1.Kustomization) bool {
	id, h := fleet.ID(ks), hashJSON(ks.Spec)
	hb, bb := sc.head.find(id, h), sc.base.find(id, h)
	if hb == nil || bb == nil || hb.hash != bb.hash {
		return true
	}
	for k, fp := range hb.hrs {
		if sc.base.hrFingerprint(k) != fp {
			return true
		}
	}
	return false
}

// hrFingerprint is the side's final fingerprint of a HelmRelease key, ""
// when it has none.
func (s *side) hrFingerprint(key string) string {
	for _, sb := range s.final {
		if fp, ok := sb.hrs[key]; ok {
			return fp
		}
	}
	return ""
}

// hrChanged reports whether a HelmRelease of the head differs from the
// base's: spec, values (also through valuesFrom objects of the builds) or
// a checkout chart's files.
func (sc *baseScope) hrChanged(cluster string, hr *helmv2.HelmRelease) bool {
	key := helmKey(cluster, hr.Namespace, hr.Name)
	head := sc.head.hrFingerprint(key)
	return head == "" || head != sc.base.hrFingerprint(key)
}

// collect lists what the change leaves as it is: the head's final
// Kustomizations that were not diffed for that reason, and their
// HelmReleases that did not change.
func (sc *baseScope) collect(res *Result) {
	res.Base = &sc.info
	var out []UnchangedItem
	for _, sb := range sc.head.final {
		if !sc.ksChanged(sb.ks) {
			out = append(out, UnchangedItem{Kind: kustomizev1.KustomizationKind, Cluster: sb.cluster.Name, Namespace: sb.ks.Namespace, Name: sb.ks.Name})
		}
		for _, hr := range typedObjects[helmv2.HelmRelease](sb.objects, helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind).GroupKind()) {
			if !sc.hrChanged(sb.cluster.Name, hr) {
				out = append(out, UnchangedItem{Kind: helmv2.HelmReleaseKind, Cluster: sb.cluster.Name, Namespace: hr.Namespace, Name: hr.Name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cluster != out[j].Cluster {
			return out[i].Cluster < out[j].Cluster
		}
		return out[i].ID() < out[j].ID()
	})
	res.Unchanged = out
}

// build is the Builder's BuildWithInputs, taken from the scope's head
// builds when --base made them already.
func (e *engine) build(ctx context.Context, ks *kustomizev1.Kustomization) ([]*unstructured.Unstructured, []string, error) {
	if e.scope != nil {
		if sb, ok := e.scope.prebuilt(ks); ok {
			return sb.objects, sb.inputs, sb.err
		}
	}
	return e.builder.BuildWithInputs(ctx, ks)
}

// inputCheck answers, per Kustomization and spec, whether its build reads
// no file that differs between the checkout (its artifact view) and the
// base tree — possibleInputs bounds what it may read — and what such a
// build may hold (hubOutputOf). Both sides ask about each Kustomization:
// the answers (which read and parse its files) are kept by ID and spec.
type inputCheck struct {
	repo string
	// read reads a file of the checkout as the head's Builder holds it.
	read    func(rel string) ([]byte, error)
	changed []string
	memo    map[string]*inputFacts
	// live: the run diffs against the clusters and needs of a changed
	// Kustomization only whether its build differs (derive); --no-live
	// compares the base's objects, so builds them.
	live bool
}

type inputFacts struct {
	same   bool
	out    *hubOutput
	inputs []string
	ok     bool
}

// unchangedInputs compares the checkout with the base tree. nil (always
// build) when a .sourceignore changed, which changes every view.
func unchangedInputs(head *Builder, base []gitrepo.File) *inputCheck {
	view, err := head.View(nil)
	if err != nil {
		return nil
	}
	var changed []string
	baseFiles := map[string][]byte{}
	for _, f := range base {
		baseFiles[f.Path] = f.Data
	}
	for _, p := range view.Files() {
		data, err := head.readFile(p)
		if old, ok := baseFiles[p]; err != nil || !ok || string(old) != string(data) {
			changed = append(changed, p)
		}
		delete(baseFiles, p)
	}
	for p := range baseFiles {
		changed = append(changed, p)
	}
	for _, p := range changed {
		if path.Base(p) == ".sourceignore" {
			return nil
		}
	}
	return &inputCheck{repo: head.repo, read: head.readFile, changed: changed, memo: map[string]*inputFacts{}}
}

func (c *inputCheck) facts(ks *kustomizev1.Kustomization) *inputFacts {
	key := fleet.ID(ks) + "|" + hashJSON(ks.Spec)
	if v, ok := c.memo[key]; ok {
		return v
	}
	v := &inputFacts{}
	v.inputs, v.ok = possibleInputs(c.repo, ks)
	v.same = inputsUnchanged(ks, v.inputs, v.ok, c.changed)
	c.memo[key] = v
	return v
}

// same reports whether no file ks may read changed.
func (c *inputCheck) same(ks *kustomizev1.Kustomization) bool { return c.facts(ks).same }

// output is what a build of ks may hold (hubOutputOf); ask it only of a
// Kustomization whose inputs are the same.
func (c *inputCheck) output(ks *kustomizev1.Kustomization) hubOutput {
	v := c.facts(ks)
	if v.out == nil {
		out := hubOutputOf(c.repo, c.read, ks, v.inputs, v.ok)
		v.out = &out
	}
	return *v.out
}

// inputsUnchanged reports whether no changed path is one ks may read
// (inputs and ok from possibleInputs).
func inputsUnchanged(ks *kustomizev1.Kustomization, inputs []string, ok bool, changed []string) bool {
	if ks.Spec.PostBuild != nil && len(ks.Spec.PostBuild.SubstituteFrom) > 0 {
		return false // hub inputs may come from other builds
	}
	if !ok {
		return false
	}
	for _, c := range changed {
		for _, in := range inputs {
			in = filepath.ToSlash(in)
			if c == in || strings.HasPrefix(c, in+"/") {
				return false
			}
		}
	}
	return true
}
