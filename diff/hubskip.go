package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"sigs.k8s.io/yaml"
)

// hubOutput is what the build of a hub Kustomization may hold that a
// --base run needs, found without building it from the files its build
// may read (possibleInputs) and its spec. It is asked only of a
// Kustomization none of whose input files changed, whose build is
// therefore the same on both sides.
type hubOutput struct {
	// build: its output may hold Flux objects (nested Kustomizations,
	// HelmReleases, ResourceSets, sources: every Flux API group has
	// "fluxcd" in its name), or cannot be bounded from the checkout's
	// files: it is built.
	build bool
	// values: its output may hold ConfigMaps or Secrets, the valuesFrom,
	// substituteFrom and source credential objects other builds read.
	values bool
}

// fluxMarker is in every Flux API group (toolkit.fluxcd.io,
// fluxcd.controlplane.io).
var fluxMarker = []byte("fluxcd")

// opaqueMarkers are what could spell an API group without its letters in
// the file: YAML and JSON escapes and binary scalars. A file holding one
// counts as holding Flux objects.
var opaqueMarkers = [][]byte{[]byte(`\x`), []byte(`\u`), []byte(`\U`), []byte("!!binary")}

// hubOutputOf decides from inputs (possibleInputs of ks in repo; bounded
// is its ok) whether a build of ks may hold what a --base run needs.
// Conservative: anything it cannot rule out counts. Flux objects are ruled
// out when neither the spec nor any input file contains "fluxcd" or an
// escape, the build decrypts nothing (SOPS could hide anything), no
// postBuild substitution meets a "${" in an input file (a variable could
// make an apiVersion), and every kustomization file names only resources,
// bases and components that are files or directories of the checkout
// (remote ones are not read here) and sets no replacements, vars or
// configurations (which could assemble a value from parts). ConfigMaps
// and Secrets are ruled out when no input file mentions either
// (case-insensitive: kinds and generators).
// Files are read with read (slash-separated, relative to repo).
func hubOutputOf(repo string, read func(rel string) ([]byte, error), ks *kustomizev1.Kustomization, inputs []string, bounded bool) hubOutput {
	all := hubOutput{build: true, values: true}
	if !bounded || ks.Spec.Decryption != nil {
		return all
	}
	spec, err := json.Marshal(ks.Spec)
	if err != nil || bytes.Contains(spec, fluxMarker) {
		return all
	}
	var out hubOutput
	for _, in := range inputs {
		p := filepath.Join(repo, in)
		data, err := read(filepath.ToSlash(in))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a name the checkout lacks holds nothing; a missing resource is localKustomization's
		}
		if err != nil {
			if fi, serr := os.Stat(p); serr == nil && fi.IsDir() {
				continue // a directory: its files are inputs of their own
			}
			return all
		}
		if bytes.Contains(data, fluxMarker) || (ks.Spec.PostBuild != nil && bytes.Contains(data, []byte("${"))) {
			return all
		}
		for _, m := range opaqueMarkers {
			if bytes.Contains(data, m) {
				return all
			}
		}
		if isKustomizationFile(in) && !localKustomization(repo, filepath.Dir(p), data) {
			return all
		}
		lower := bytes.ToLower(data)
		if bytes.Contains(lower, []byte("configmap")) || bytes.Contains(lower, []byte("secret")) {
			out.values = true
		}
	}
	return out
}

func isKustomizationFile(p string) bool {
	switch filepath.Base(p) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// localKustomization reports whether the kustomization file data in dir
// names only resources, bases and components inside repo that exist, and
// sets nothing that assembles values from parts.
func localKustomization(repo, dir string, data []byte) bool {
	var k struct {
		Resources      []string `json:"resources"`
		Bases          []string `json:"bases"`
		Components     []string `json:"components"`
		Replacements   any      `json:"replacements"`
		Vars           any      `json:"vars"`
		Configurations any      `json:"configurations"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil || k.Replacements != nil || k.Vars != nil || k.Configurations != nil {
		return false
	}
	for _, r := range append(append(k.Resources, k.Bases...), k.Components...) {
		if strings.Contains(r, "://") || filepath.IsAbs(r) {
			return false
		}
		p := filepath.Join(dir, r)
		rel, err := filepath.Rel(repo, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return false
		}
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}
