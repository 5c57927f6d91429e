#!/usr/bin/env bash
# Builds the helm CLI (helm.sh/helm/v4/cmd/helm) from the Go module proxy
# as the baseline `helm template` (+ `kubectl diff --server-side`) of the
# chart-heavy diff benchmark (diff/helm_bench_test.go).
#
#   hack/helm/build-helm-cli.sh VERSION CACHE_DIR OUT_DIR
#
# VERSION is the helm.sh/helm/v4 version of go.mod (the SDK the plugin
# renders with), so both sides render with the same Helm. Built once into
# CACHE_DIR (outside the clone, keyed by version) and copied into OUT_DIR
# (bin/helm). As for the flux CLI, the module zip is copied from the module
# cache into a temporary directory and built there with its own go.mod.
set -euo pipefail

usage="usage: $0 VERSION CACHE_DIR OUT_DIR"
version=${1:?$usage}
cache=${2:?$usage}
out=${3:?$usage}
bin=helm
module=helm.sh/helm/v4

mkdir -p "$out"
if [ -x "$cache/$bin" ]; then
	echo "using cached helm CLI $version from $cache"
else
	echo "building the helm CLI $version from the Go module proxy (once; a few minutes on 2 cores)"
	src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[ -d "$src" ] || { echo "go mod download of $module@$version failed" >&2; exit 1; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/helm-cli-$version.XXXXXX")
	trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
	cp -R "$src/." "$work/"
	chmod -R u+w "$work"
	mkdir -p "$cache"
	tmpbin="$cache/$bin.tmp.$$" # renamed when complete, see hack/flux/build-controller.sh
	# helm's release build stamps its version into internal/version.
	(cd "$work" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X $module/internal/version.version=$version" -o "$tmpbin" ./cmd/helm)
	mv "$tmpbin" "$cache/$bin"
fi
cp "$cache/$bin" "$out/$bin"
"$out/$bin" version >/dev/null 2>&1 || { echo "$out/$bin does not run" >&2; exit 1; }
echo "$out/$bin ready"
