// Package fluxplugin renders the Flux CLI plugin manifest and catalog of
// kubectl-c5c3 (schema cli.fluxcd.io/v1beta1), so that `flux plugin install
// c5c3` installs the release archive's binary as flux-c5c3 in the flux
// plugin directory and `flux c5c3 ...` runs it.
//
// The flux CLI (fluxcd/flux2 internal/plugin) fetches <catalog>/c5c3.yaml,
// picks the first version and the platform of the machine, downloads the
// archive, checks its sha256 and extracts the entry named by extractPath
// (here kubectl-c5c3, the binary krew installs) as the manifest's bin.
//
// The types mirror github.com/fluxcd/flux2/v2/pkg/plugin: importing it would
// add flux2's module requirements to this module and upgrade ten modules,
// go-git's ssh_config among them, compiled into the plugin, for five structs.
// Check applies what the flux CLI checks when it fetches a manifest
// (internal/plugin/catalog.go) and what the JSON schemas of the fluxcd/plugins
// catalog require (schemas/plugin-cli-v1beta1.json,
// plugincatalog-cli-v1beta1.json); `make flux-plugin-test` has the real flux
// CLI install from the rendered files.
//
// The package takes typed inputs and returns typed results; it does not
// import cobra or pflag.
package fluxplugin
