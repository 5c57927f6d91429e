// Package kbuild runs kustomize builds as kustomize-controller does
// (fluxcd/pkg/kustomize), without parsing kustomize's built-in OpenAPI
// schema before every build. The diff engine, promote's check of an edit
// and the test fleet's sample loader build through it.
package kbuild

import (
	"fmt"
	"sync"

	"github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// buildMu serialises kustomize builds: kustomize keeps its OpenAPI schema
// in process globals (https://github.com/kubernetes-sigs/kustomize/issues/3659).
var buildMu sync.Mutex

// Build runs kustomize like fluxcd/pkg/kustomize.Build (the
// library kustomize-controller uses: no load restrictions, builtin plugins
// only, panics recovered) without paying for kyaml's built-in OpenAPI schema
// on every build.
//
// kustomize.Build resets kyaml's global schema and parses the built-in
// Kubernetes schema before each build (~80 % of a small build's CPU), so
// that a kustomization.yaml `openapi:` field adds to the built-ins and never
// leaks into the next build. A build without an `openapi:` field reads the
// schema only through kyaml's lazy accessors: namespace scope of built-in
// kinds comes from kyaml's precomputed table (equal to the built-in schema,
// which kyaml's own tests check), and strategic merge patches parse the
// built-in schema on first use, once per process. Such a build therefore
// gives the same result with the global schema left as it is. A build that
// does set `openapi:` (kyaml then reports another schema version) is thrown
// away, the schema reset, and the build run again through kustomize.Build,
// so it gets exactly Flux's behaviour.
func Build(fs filesys.FileSystem, dir string) (resmap.ResMap, error) {
	res, custom, err := lazyBuild(fs, dir)
	if custom {
		return kustomize.Build(fs, dir)
	}
	return res, err
}

func lazyBuild(fs filesys.FileSystem, dir string) (res resmap.ResMap, custom bool, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered from kustomize build panic: %v", r)
		}
		if openapi.GetSchemaVersion() != defaultSchemaVersion {
			openapi.ResetOpenAPI()
			custom = true
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	res, err = k.Run(fs, dir)
	return res, false, err
}

// defaultSchemaVersion is what kyaml reports while no build has chosen a
// schema (read before any build).
var defaultSchemaVersion = openapi.GetSchemaVersion()

// SecureBuild is Build on the disk below root, refusing any file outside
// it, like fluxcd/pkg/kustomize.SecureBuild without remote bases.
func SecureBuild(root, dir string) (resmap.ResMap, error) {
	fs, err := securefs.MakeFsOnDiskSecure(root)
	if err != nil {
		return nil, err
	}
	return Build(fs, dir)
}
