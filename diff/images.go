package diff

import (
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ClusterImages is one cluster's images summary: the container image
// references the plan adds, changes and removes, over the objects of its
// Kustomizations and rendered HelmReleases.
type ClusterImages struct {
	Cluster string        `json:"cluster"`
	Added   []ImageChange `json:"added"`
	Changed []ImageChange `json:"changed"`
	Removed []ImageChange `json:"removed"`
}

// ImageChange is one image reference change and the objects it is made
// in. From is empty for an added reference, To for a removed one.
type ImageChange struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Objects are "Kind/namespace/name", sorted.
	Objects []string `json:"objects"`
}

// imageDelta is one container's image before and after the change.
type imageDelta struct{ from, to string }

// podSpecPaths are where objects hold a pod spec: a Pod, the workloads'
// pod template, a CronJob's job template.
var podSpecPaths = [][]string{
	{"spec"},
	{"spec", "template", "spec"},
	{"spec", "jobTemplate", "spec", "template", "spec"},
}

// podImages maps each container ("containers/NAME", "initContainers/NAME",
// ...) of an object's pod spec to its image; nil for an object without one.
func podImages(u *unstructured.Unstructured) map[string]string {
	if u == nil {
		return nil
	}
	path := podSpecPaths[1]
	switch u.GetKind() {
	case "Pod":
		path = podSpecPaths[0]
	case "CronJob":
		path = podSpecPaths[2]
	}
	var out map[string]string
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs, _, _ := unstructured.NestedSlice(u.Object, append(append([]string{}, path...), list)...)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			name, _ := m["name"].(string)
			image, _ := m["image"].(string)
			if image == "" {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[list+"/"+name] = image
		}
	}
	return out
}

// setDiff sets the unified diff of the object's change from before (live)
// to after (merged), and observes it.
func (o *ObjectResult) setDiff(before, after *unstructured.Unstructured) {
	o.Diff = objectDiff(before, after)
	o.observe(before, after)
}

// observe notes the image references and selectors a change from before
// to after makes (either nil: created or deleted).
func (o *ObjectResult) observe(before, after *unstructured.Unstructured) {
	b, a := podImages(before), podImages(after)
	o.images = nil
	keys := make([]string, 0, len(a)+len(b))
	for k := range b {
		keys = append(keys, k)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if b[k] != a[k] {
			o.images = append(o.images, imageDelta{from: b[k], to: a[k]})
		}
	}
	o.selectors = changedSelectors(before, after)
}

// selectorFields are the fields that choose which pods or objects an
// object acts on: a Service's or workload's selector, a NetworkPolicy's
// podSelector.
var selectorFields = []string{"selector", "podSelector"}

// changedSelectors lists the selector fields (".spec.selector") that differ
// between before and after; none when either is nil.
func changedSelectors(before, after *unstructured.Unstructured) []string {
	if before == nil || after == nil {
		return nil
	}
	var out []string
	for _, f := range selectorFields {
		bv, _, _ := unstructured.NestedFieldNoCopy(before.Object, "spec", f)
		av, _, _ := unstructured.NestedFieldNoCopy(after.Object, "spec", f)
		if !reflect.DeepEqual(bv, av) {
			out = append(out, ".spec."+f)
		}
	}
	return out
}

// summariseImages is the images summary of the objects, per cluster in
// their order.
func summariseImages(objects []ObjectResult) []ClusterImages {
	out := []ClusterImages{}
	index := map[string]int{}
	type key struct{ cluster, from, to string }
	objs := map[key]map[string]bool{}
	var order []key
	for _, o := range objects {
		for _, d := range o.images {
			k := key{o.Cluster, d.from, d.to}
			if objs[k] == nil {
				objs[k] = map[string]bool{}
				order = append(order, k)
			}
			objs[k][o.ID()] = true
			if _, ok := index[o.Cluster]; !ok {
				index[o.Cluster] = len(out)
				out = append(out, ClusterImages{Cluster: o.Cluster, Added: []ImageChange{}, Changed: []ImageChange{}, Removed: []ImageChange{}})
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].cluster != order[j].cluster {
			return index[order[i].cluster] < index[order[j].cluster]
		}
		if order[i].from != order[j].from {
			return order[i].from < order[j].from
		}
		return order[i].to < order[j].to
	})
	for _, k := range order {
		c := &out[index[k.cluster]]
		ch := ImageChange{From: k.from, To: k.to}
		for id := range objs[k] {
			ch.Objects = append(ch.Objects, id)
		}
		sort.Strings(ch.Objects)
		switch {
		case k.from == "":
			c.Added = append(c.Added, ch)
		case k.to == "":
			c.Removed = append(c.Removed, ch)
		default:
			c.Changed = append(c.Changed, ch)
		}
	}
	return out
}
