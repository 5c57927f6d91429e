#!/usr/bin/env bash
# Builds a Flux controller from the Go module proxy for the real-controller
# end-to-end tests (plugin/e2e_controller_test.go, plugin/e2e_helm_test.go).
#
#   hack/flux/build-controller.sh NAME VERSION CACHE_ROOT OUT_DIR
#
# NAME is the controller (kustomize-controller, helm-controller), the module
# github.com/fluxcd/NAME. The binary is built once into CACHE_ROOT/NAME-VERSION
# (outside the clone, keyed by version) and copied into OUT_DIR (bin/flux).
# Nothing of the controller's code is kept in this repository: the module zip
# is copied from the module cache into a temporary directory, its nested api
# module (which module zips leave out; go.mod replaces it with ./api) is put
# beside it, and the build uses the go1.27.3 toolchain from the module proxy
# (kustomize-controller v1.9.6 asks for it; helm-controller builds with it too).
set -euo pipefail

usage="usage: $0 NAME VERSION CACHE_ROOT OUT_DIR"
name=${1:?$usage}
version=${2:?$usage}
root=${3:?$usage}
out=${4:?$usage}
toolchain=${FLUX_GOTOOLCHAIN:-go1.27.3}
cache="$root/$name-$version"
module="github.com/fluxcd/$name"

mkdir -p "$out"
if [ -x "$cache/$name" ]; then
	echo "using cached $name $version from $cache"
else
	echo "building $name $version from the Go module proxy (once; ~3-6 min on 2 cores)"
	moddir() { # module@version -> its directory in the module cache
		go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
	}
	src=$(moddir "$module@$version")
	api=$(moddir "$module/api@$version")
	[ -d "$src" ] && [ -d "$api" ] || { echo "go mod download of $name $version failed" >&2; exit 1; }

	work=$(mktemp -d "${TMPDIR:-/tmp}/$name-$version.XXXXXX")
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
	tmpbin="$cache/$name.tmp.$$"
	(cd "$work" && GOTOOLCHAIN="$toolchain" CGO_ENABLED=0 go build -trimpath -o "$tmpbin" .)
	mv "$tmpbin" "$cache/$name"
fi
cp "$cache/$name" "$out/$name"
"$out/$name" --help >/dev/null 2>&1 || { echo "$out/$name does not run" >&2; exit 1; }
echo "$out/$name ready"
