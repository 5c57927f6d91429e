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

# Flux's kustomize-controller for the real-controller end-to-end test,
# built from the Go module proxy by hack/flux (go1.27.3 toolchain, also from
# the proxy) into bin/flux, cached outside the clone keyed by version.
KUSTOMIZE_CONTROLLER_VERSION := v1.9.6
FLUX_BIN     := $(CURDIR)/bin/flux
FLUX_CACHE   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-c5c3/kustomize-controller-$(KUSTOMIZE_CONTROLLER_VERSION)
export FLUX_BIN
# The flux CLI, the `flux diff kustomization` baseline of `make bench`,
# built the same way by hack/flux into bin/flux.
FLUX_CLI_VERSION := v2.9.5
FLUX_CLI_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-c5c3/flux-cli-$(FLUX_CLI_VERSION)

# Flux CRDs come from the Flux controller modules in the Go module cache.
FLUX_MODULES := github.com/fluxcd/kustomize-controller@v1.9.6 \
                github.com/fluxcd/source-controller@v1.9.6 \
                github.com/fluxcd/helm-controller@v1.4.3
# The Flux Operator v0.59.0 module declares go 1.27: download only, with the
# go1.27.3 toolchain from the module proxy. Its Go code is never imported.
FLUX_OPERATOR_MODULE := github.com/controlplaneio-fluxcd/flux-operator@v0.59.0

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
test: k8s-bins flux-bins crds ## Run all tests against a real hub + 3 spokes (builds the apiserver and kustomize-controller binaries once)
	go test -count=1 ./...

.PHONY: test-short
test-short: ## Run only the unit tests (no apiservers)
	go test -short -count=1 ./...

.PHONY: bench
bench: k8s-bins flux-cli crds ## Run the benchmarks on the test fleet (baselines: raw SSA dry-runs, kubectl diff, flux diff kustomization)
	go test -run '^$$' -bench . -benchmem -count=1 ./...

.PHONY: update-golden
update-golden: k8s-bins flux-bins crds ## Rewrite the golden files from the current output
	go test -count=1 $$(grep -rl --include='*_test.go' 'internal/golden"' . | xargs -n1 dirname | sort -u | sed 's|^|./|') -update

.PHONY: demo
demo: build k8s-bins crds ## Start a local hub + 3 spokes with the sample gitops repo and show `kubectl c5c3 status` and `diff`
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
flux-bins: $(FLUX_BIN)/kustomize-controller ## Build Flux's kustomize-controller into bin/flux (cached outside the clone)

$(FLUX_BIN)/kustomize-controller:
	hack/flux/build-kustomize-controller.sh $(KUSTOMIZE_CONTROLLER_VERSION) "$(FLUX_CACHE)" $(FLUX_BIN)

.PHONY: flux-cli
flux-cli: $(FLUX_BIN)/flux ## Build the flux CLI $(FLUX_CLI_VERSION) into bin/flux for the benchmarks (cached outside the clone)

$(FLUX_BIN)/flux:
	hack/flux/build-flux-cli.sh $(FLUX_CLI_VERSION) "$(FLUX_CLI_CACHE)" $(FLUX_BIN)

.PHONY: crds
crds: ## Download the Flux and Flux Operator CRDs into the Go module cache
	@for m in $(FLUX_MODULES); do go mod download $$m; done
	@GOTOOLCHAIN=go1.27.3 go mod download $(FLUX_OPERATOR_MODULE)

##@ Development

.PHONY: fmt
fmt: ## gofmt the tree
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet
	go vet ./...

.PHONY: lint
lint: vet ## gofmt check and go vet
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: tidy
tidy: ## go mod tidy (both modules)
	go mod tidy
	cd hack/k8s && go mod tidy

.PHONY: clean
clean: ## Remove build output (not the apiserver cache)
	rm -rf bin/kubectl-c5c3 dist .demo

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)
