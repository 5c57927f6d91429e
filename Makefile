# kubectl-c5c3 — `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.DEFAULT_GOAL := help

MODULE      := github.com/c5c3/kubectl-c5c3
VERSION     ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo "v0.0.0-g$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)")
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE        ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
LDFLAGS     := -s -w -X $(MODULE)/internal/buildinfo.Version=$(VERSION) \
               -X $(MODULE)/internal/buildinfo.Commit=$(COMMIT) \
               -X $(MODULE)/internal/buildinfo.Date=$(DATE)
GOBIN       ?= $(shell go env GOPATH)/bin

# Test fleet binaries: kube-apiserver (k8s.io/kubernetes) and etcd, built from
# the Go module proxy by the tools module in hack/k8s. They are kept in bin/k8s
# and in a cache outside the clone, keyed by version, so a fresh clone on the
# same machine does not rebuild them (a cold build takes ~6-8 min on 2 cores).
K8S_VERSION  := v1.37.2
ETCD_VERSION := v3.7.0
K8S_BIN      := $(CURDIR)/bin/k8s
K8S_CACHE    ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-c5c3/k8s-$(K8S_VERSION)-etcd-$(ETCD_VERSION)-2
export KUBEBUILDER_ASSETS := $(K8S_BIN)
# Stamp the version the apiserver reports (/version), as a release build would.
K8S_LDFLAGS  := -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
                -X k8s.io/component-base/version.gitMajor=1 \
                -X k8s.io/component-base/version.gitMinor=37 \
                -X k8s.io/component-base/version.gitTreeState=clean

# Flux's kustomize-controller and helm-controller for the real-controller
# end-to-end tests, built from the Go module proxy by hack/flux (go1.27.3
# toolchain, also from the proxy) into bin/flux, cached outside the clone in
# FLUX_CACHE_ROOT/<name>-<version>. Their versions are those of their api
# modules in go.mod — written only there; the test fleet derives the same
# (internal/testfleet/versions.go) and takes the Flux CRDs from the
# controller modules at those versions.
fluxapi = $(shell awk '$$1 == "github.com/fluxcd/$(1)/api" { print $$2 }' go.mod)
KUSTOMIZE_CONTROLLER_VERSION := $(call fluxapi,kustomize-controller)
HELM_CONTROLLER_VERSION      := $(call fluxapi,helm-controller)
FLUX_BIN        := $(CURDIR)/bin/flux
FLUX_CACHE_ROOT ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-c5c3
export FLUX_BIN
# The flux CLI, the `flux diff kustomization` baseline of `make bench` and
# the plugin system `make flux-plugin-test` installs kubectl-c5c3 with
# (`flux plugin`, in flux since v2.9.0), built the same way by hack/flux
# into bin/flux.
FLUX_CLI_VERSION := v2.9.5
FLUX_CLI_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-c5c3/flux-cli-$(FLUX_CLI_VERSION)
# The helm CLI, the `helm template` baseline of the chart-heavy benchmark,
# built by hack/helm from the Go module proxy at the helm.sh/helm/v4
# version of go.mod (the SDK the plugin renders with) into bin/helm,
# cached outside the clone like the flux CLI.
HELM_CLI_VERSION := $(shell awk '$$1 == "helm.sh/helm/v4" { print $$2 }' go.mod)
HELM_CLI_BIN   := $(CURDIR)/bin/helm
HELM_CLI_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-c5c3/helm-cli-$(HELM_CLI_VERSION)
export HELM_CLI_BIN

-include hack/make/*.mk

##@ Build

.PHONY: build
build: ## Build bin/kubectl-c5c3
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl-c5c3 ./cmd/kubectl-c5c3

.PHONY: install
install: ## Install kubectl-c5c3 into GOBIN so `kubectl c5c3` finds it
	CGO_ENABLED=0 GOBIN=$(GOBIN) go install -trimpath -ldflags '$(LDFLAGS)' ./cmd/kubectl-c5c3
	@echo "installed $(GOBIN)/kubectl-c5c3 — make sure $(GOBIN) is on your PATH, then run: kubectl c5c3 version"

##@ Test

.PHONY: test
# -timeout: the plugin package runs ~5 min on a quiet 2-core machine and over
# go test's default 10 min on a cold one still compiling other packages.
#
# GOGC=400: the test binaries, apiservers, etcds and controllers collect
# garbage a quarter as often (a fifth of an apiserver's start-up CPU, a
# sixth of a test binary's), for more memory; -s -w: test binaries are
# linked without symbol table and DWARF (a third of each link).
test: k8s-bins flux-bins ## Run all tests against a real hub + 3 spokes (builds the apiserver and Flux controller binaries once)
	GOGC=$${GOGC:-400} go test -count=1 -timeout 45m -ldflags='-s -w' ./...

.PHONY: test-short
test-short: ## Run only the unit tests (no apiservers)
	go test -short -count=1 ./...

.PHONY: bench
bench: k8s-bins flux-cli helm-cli ## Run the benchmarks on the test fleet (baselines: raw SSA dry-runs, kubectl diff, flux diff kustomization, helm template; kubectl c5c3 version for the Ctrl-C figures)
	go test -run '^$$' -bench . -benchmem -count=1 ./...

# Fuzz targets (Go native fuzzing) are found in the _test.go files; each runs
# for FUZZTIME: a duration (30s) or a number of inputs (300x). Seeds come from
# testdata; a failing input is written under the package's testdata/fuzz and
# replayed by every later `go test` (CI does not fuzz; its make test replays
# them). On a loaded machine prefer a count: with a duration Go's fuzzing
# coordinator can fail a target with a bare "context deadline exceeded" (no
# input written) when the deadline passes while a worker is still gathering
# baseline coverage; a count has no deadline, so a slow machine is only slower.
FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10s)
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for fz in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do \
			echo "==> $$pkg $$fz ($(FUZZTIME))"; \
			go test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

.PHONY: update-golden
update-golden: k8s-bins flux-bins ## Rewrite the golden files from the current output
	go test -count=1 $$(grep -rl --include='*_test.go' 'internal/golden"' . | xargs -n1 dirname | sort -u | sed 's|^|./|') -update

.PHONY: demo
demo: build k8s-bins ## Start a local hub + 3 spokes with the sample gitops repo and show `kubectl c5c3` status, trace, diff, versions and promote
	go run ./hack/demo --plugin $(CURDIR)/bin/kubectl-c5c3

##@ Test fleet binaries

.PHONY: k8s-bins
k8s-bins: $(K8S_BIN)/kube-apiserver $(K8S_BIN)/etcd ## Build kube-apiserver and etcd into bin/k8s (cached outside the clone)

$(K8S_BIN)/kube-apiserver $(K8S_BIN)/etcd:
	@mkdir -p $(K8S_BIN)
	@if [ -x "$(K8S_CACHE)/kube-apiserver" ] && [ -x "$(K8S_CACHE)/etcd" ]; then \
		echo "using cached apiserver binaries from $(K8S_CACHE)"; \
	else \
		echo "building kube-apiserver $(K8S_VERSION) and etcd $(ETCD_VERSION) from the Go module proxy (several minutes, once)"; \
		mkdir -p "$(K8S_CACHE)" && cd hack/k8s && \
		go build -trimpath -ldflags '$(K8S_LDFLAGS)' -o "$(K8S_CACHE)/" k8s.io/kubernetes/cmd/kube-apiserver ./cmd/etcd; \
	fi
	cp "$(K8S_CACHE)/kube-apiserver" "$(K8S_CACHE)/etcd" $(K8S_BIN)/

.PHONY: flux-bins
flux-bins: $(FLUX_BIN)/kustomize-controller $(FLUX_BIN)/helm-controller ## Build Flux's kustomize-controller and helm-controller into bin/flux (cached outside the clone)

$(FLUX_BIN)/kustomize-controller:
	hack/flux/build-controller.sh kustomize-controller $(KUSTOMIZE_CONTROLLER_VERSION) "$(FLUX_CACHE_ROOT)" $(FLUX_BIN)

$(FLUX_BIN)/helm-controller:
	hack/flux/build-controller.sh helm-controller $(HELM_CONTROLLER_VERSION) "$(FLUX_CACHE_ROOT)" $(FLUX_BIN)

.PHONY: flux-cli
flux-cli: $(FLUX_BIN)/flux ## Build the flux CLI $(FLUX_CLI_VERSION) into bin/flux for the benchmarks and flux-plugin-test (cached outside the clone)

$(FLUX_BIN)/flux:
	hack/flux/build-flux-cli.sh $(FLUX_CLI_VERSION) "$(FLUX_CLI_CACHE)" $(FLUX_BIN)

.PHONY: helm-cli
helm-cli: $(HELM_CLI_BIN)/helm ## Build the helm CLI $(HELM_CLI_VERSION) into bin/helm for the benchmarks (cached outside the clone)

$(HELM_CLI_BIN)/helm:
	hack/helm/build-helm-cli.sh $(HELM_CLI_VERSION) "$(HELM_CLI_CACHE)" $(HELM_CLI_BIN)

##@ Development

.PHONY: fmt
fmt: ## gofmt the tree
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet
	go vet ./...

# staticcheck, pinned by the tools module hack/tools, built into bin/.
STATICCHECK := $(CURDIR)/bin/staticcheck

.PHONY: lint
lint: vet $(STATICCHECK) ## gofmt check, go vet and staticcheck
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...

$(STATICCHECK): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && go build -o $(STATICCHECK) honnef.co/go/tools/cmd/staticcheck

.PHONY: tidy
tidy: ## go mod tidy (all three modules)
	go mod tidy
	cd hack/k8s && go mod tidy
	cd hack/tools && go mod tidy

.PHONY: docs
docs: ## Regenerate the command reference docs/commands from the commands' help
	go run ./hack/docgen -out docs/commands

.PHONY: clean
clean: ## Remove build output (not the apiserver cache)
	rm -rf bin/kubectl-c5c3 dist .demo

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)
