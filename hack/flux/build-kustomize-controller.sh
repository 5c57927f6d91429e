#!/usr/bin/env bash
# Builds Flux's kustomize-controller from the Go module proxy for the
# real-controller end-to-end test (plugin/e2e_controller_test.go).
#
#   hack/flux/build-kustomize-controller.sh VERSION CACHE_DIR OUT_DIR
#
# The binary is built once into CACHE_DIR (outside the clone, keyed by
# version) and copied into OUT_DIR (bin/flux). Nothing of the controller's
# code is kept in this repository: the module zip is copied from the module
# cache into a temporary directory, its nested api module (which module zips
# leave out; go.mod replaces it with ./api) is put beside it, and the build
# uses the go1.27.3 toolchain from the module proxy, as the module asks.
set -euo pipefail

version=${1:?usage: $0 VERSION CACHE_DIR OUT_DIR}
cache=${2:?usage: $0 VERSION CACHE_DIR OUT_DIR}
out=${3:?usage: $0 VERSION CACHE_DIR OUT_DIR}
toolchain=${FLUX_GOTOOLCHAIN:-go1.27.3}
bin=kustomize-controller

mkdir -p "$out"
if [ -x "$cache/$bin" ]; then
	echo "using cached $bin $version from $cache"
else
	echo "building $bin $version from the Go module proxy (once; ~3-5 min on 2 cores)"
	moddir() { # module@version -> its directory in the module cache
		go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
	}
	src=$(moddir "github.com/fluxcd/kustomize-controller@$version")
	api=$(moddir "github.com/fluxcd/kustomize-controller/api@$version")
	[ -d "$src" ] && [ -d "$api" ] || { echo "go mod download of kustomize-controller $version failed" >&2; exit 1; }

	work=$(mktemp -d "${TMPDIR:-/tmp}/kustomize-controller-$version.XXXXXX")
	trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
	cp -R "$src/." "$work/"
	chmod -R u+w "$work"
	rm -rf "$work/api"
	mkdir -p "$work/api"
	cp -R "$api/." "$work/api/"
	chmod -R u+w "$work/api"

	mkdir -p "$cache"
	# Build into a temporary name of this run, then rename: an interrupted
	# build never leaves a half-written binary in the cache, and two builds
	# running at once (two clones on one machine) do not take each other's.
	tmpbin="$cache/$bin.tmp.$$"
	(cd "$work" && GOTOOLCHAIN="$toolchain" CGO_ENABLED=0 go build -trimpath -o "$tmpbin" .)
	mv "$tmpbin" "$cache/$bin"
fi
cp "$cache/$bin" "$out/$bin"
"$out/$bin" --help >/dev/null 2>&1 || { echo "$out/$bin does not run" >&2; exit 1; }
echo "$out/$bin ready"
