#!/usr/bin/env bash
# Builds the Flux CLI (github.com/fluxcd/flux2/v2) from the Go module proxy
# as the baseline `flux diff kustomization` of the diff benchmarks and for
# `make flux-plugin-test` (`flux plugin install c5c3`).
#
#   hack/flux/build-flux-cli.sh VERSION CACHE_DIR OUT_DIR
#
# Built once into CACHE_DIR (outside the clone, keyed by version) and copied
# into OUT_DIR (bin/flux). The module zip is copied from the module cache
# into a temporary directory. cmd/flux embeds the install manifests, which
# flux's release build generates and module zips leave out: an empty
# placeholder stands in, so `flux install`/`bootstrap` of this binary have no
# manifests; `flux diff kustomization`, all the benchmark runs, and `flux
# plugin` do not use them.
set -euo pipefail

version=${1:?usage: $0 VERSION CACHE_DIR OUT_DIR}
cache=${2:?usage: $0 VERSION CACHE_DIR OUT_DIR}
out=${3:?usage: $0 VERSION CACHE_DIR OUT_DIR}
bin=flux

mkdir -p "$out"
if [ -x "$cache/$bin" ]; then
	echo "using cached flux CLI $version from $cache"
else
	echo "building the flux CLI $version from the Go module proxy (once; a few minutes on 2 cores)"
	src=$(go mod download -json "github.com/fluxcd/flux2/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[ -d "$src" ] || { echo "go mod download of github.com/fluxcd/flux2/v2@$version failed" >&2; exit 1; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/flux-cli-$version.XXXXXX")
	trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
	cp -R "$src/." "$work/"
	chmod -R u+w "$work"
	mkdir -p "$work/cmd/flux/manifests"
	echo "# placeholder: install manifests are not part of the module zip" >"$work/cmd/flux/manifests/placeholder.yaml"
	mkdir -p "$cache"
	tmpbin="$cache/$bin.tmp.$$" # renamed when complete, see build-kustomize-controller.sh
	(cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.VERSION=${version#v}" -o "$tmpbin" ./cmd/flux)
	mv "$tmpbin" "$cache/$bin"
fi
cp "$cache/$bin" "$out/$bin"
"$out/$bin" --version >/dev/null 2>&1 || { echo "$out/$bin does not run" >&2; exit 1; }
echo "$out/$bin ready"
