# Release archives, the krew manifest, the flux CLI plugin manifest and
# catalog, and the krew and flux plugin install tests.
# Included by the top-level Makefile; uses its MODULE, COMMIT and DATE.

# The release version: the tag on HEAD (v0.1.0), else `git describe` from
# the last tag (v0.1.0-3-gabcdef), else v0.0.0-g<commit>. krew wants a
# semantic version with a leading v; "-dirty" marks uncommitted changes.
ifeq ($(origin DIST_VERSION),undefined)
DIST_VERSION := $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || \
	echo "v0.0.0-g$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty)")
endif
# Every archive entry is dated with the commit time, so one commit gives
# byte-identical archives (https://reproducible-builds.org/specs/source-date-epoch/).
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
endif

DIST_DIR       := $(CURDIR)/dist
DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
DIST_LDFLAGS   := -s -w -X $(MODULE)/internal/buildinfo.Version=$(DIST_VERSION) \
                  -X $(MODULE)/internal/buildinfo.Commit=$(COMMIT) \
                  -X $(MODULE)/internal/buildinfo.Date=$(DATE)
DIST_TOOL      := go run ./hack/dist
# DIST_ONE_ARCH_PER_OS=1 (set by .ci/run only) compiles one architecture per
# OS and packs that binary into the archives of the other architectures of
# the same OS, so a cold CI run compiles 3 platforms instead of 5 and still
# checks every archive, the manifest and the krew installs. Archives built
# this way are not releases: `make dist` without it builds every platform.
DIST_ONE_ARCH_PER_OS ?=
# KREW_BASE_URL overrides the archive URIs of dist/c5c3.yaml (default: the
# GitHub release download URL in .krew.yaml).
KREW_BASE_URL  ?=
# FLUX_PLUGIN_BASE_URL does the same for the archive URLs of the flux plugin
# manifest, dist/flux-catalog/c5c3.yaml.
FLUX_PLUGIN_BASE_URL ?=
FLUX_CATALOG_DIR     := $(DIST_DIR)/flux-catalog

# krew and its manifest validator, built from the Go module proxy into bin/.
# They are never added to go.mod: krew <= v0.4.4 requires
# k8s.io/client-go v11.0.0+incompatible.
KREW_VERSION           := v0.4.3
KREW_TOOLS             := $(CURDIR)/bin/krew-$(KREW_VERSION)
KREW                   := $(KREW_TOOLS)/kubectl-krew
VALIDATE_KREW_MANIFEST := $(KREW_TOOLS)/validate-krew-manifest

##@ Distribution

.PHONY: dist
dist: ## Build the release archives, dist/checksums.txt, dist/c5c3.yaml (krew) and dist/flux-catalog/ (flux plugin) for DIST_VERSION
	@echo "==> dist $(DIST_VERSION) (commit $(COMMIT), entries dated $(SOURCE_DATE_EPOCH))"
	@rm -rf $(DIST_DIR) && mkdir -p $(DIST_DIR)/bin
	@built=; for p in $(DIST_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		out=$(DIST_DIR)/bin/$${os}_$${arch}/kubectl-c5c3$$ext; \
		same=$$(for b in $$built; do [ "$${b%/*}" = "$$os" ] && { echo $$b; break; }; done); \
		if [ "$(DIST_ONE_ARCH_PER_OS)" = 1 ] && [ -n "$$same" ]; then \
			echo "  $$os/$$arch: stand-in, the $$same binary (DIST_ONE_ARCH_PER_OS=1: a CI packaging check, not a release)"; \
			mkdir -p $$(dirname $$out) && cp $(DIST_DIR)/bin/$${same%/*}_$${same#*/}/kubectl-c5c3$$ext $$out || exit 1; \
			continue; \
		fi; \
		echo "  go build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags '$(DIST_LDFLAGS)' -o $$out ./cmd/kubectl-c5c3 || exit 1; \
		built="$$built $$p"; \
	done
	@echo "==> pack archives"
	@$(DIST_TOOL) pack -version $(DIST_VERSION) -bin-dir $(DIST_DIR)/bin -dist $(DIST_DIR) -mtime $(SOURCE_DATE_EPOCH)
	@echo "==> render the krew manifest"
	@$(DIST_TOOL) manifest -version $(DIST_VERSION) -dist $(DIST_DIR) -base-url '$(KREW_BASE_URL)' -o $(DIST_DIR)/c5c3.yaml
	@echo "==> render the flux plugin manifest and catalog"
	@$(DIST_TOOL) flux-manifest -version $(DIST_VERSION) -dist $(DIST_DIR) -base-url '$(FLUX_PLUGIN_BASE_URL)' -o $(FLUX_CATALOG_DIR)

.PHONY: krew-manifest
krew-manifest: ## Render dist/c5c3.yaml from .krew.yaml and dist/checksums.txt (KREW_BASE_URL=... for other URIs)
	@$(DIST_TOOL) manifest -version $(DIST_VERSION) -dist $(DIST_DIR) -base-url '$(KREW_BASE_URL)' -o $(DIST_DIR)/c5c3.yaml

.PHONY: krew-validate
krew-validate: krew-tools ## Validate the manifest with krew's validate-krew-manifest, installing every archive from 127.0.0.1
	@echo "==> validate-krew-manifest $(KREW_VERSION) on the dist archives"
	@$(DIST_TOOL) validate -version $(DIST_VERSION) -dist $(DIST_DIR) -validator $(VALIDATE_KREW_MANIFEST) -krew $(KREW)

.PHONY: krew-test
krew-test: krew-validate krew-manifest ## Validate the manifest, then krew install/uninstall this machine's archive in a throwaway KREW_ROOT (offline)
	@echo "==> krew install $(DIST_VERSION) in a throwaway KREW_ROOT"
	@$(DIST_TOOL) krew-test -version $(DIST_VERSION) -dist $(DIST_DIR) -manifest $(DIST_DIR)/c5c3.yaml -krew $(KREW)

.PHONY: flux-plugin-manifest
flux-plugin-manifest: ## Render dist/flux-catalog/c5c3.yaml and catalog.yaml from dist/checksums.txt (FLUX_PLUGIN_BASE_URL=... for other URLs)
	@$(DIST_TOOL) flux-manifest -version $(DIST_VERSION) -dist $(DIST_DIR) -base-url '$(FLUX_PLUGIN_BASE_URL)' -o $(FLUX_CATALOG_DIR)

# The flux CLI of `make flux-cli` (FLUX_CLI_VERSION, from the Go module
# proxy; cached outside the clone) installs the plugin.
.PHONY: flux-plugin-test
flux-plugin-test: flux-cli flux-plugin-manifest ## `flux plugin install c5c3` from a 127.0.0.1 catalog of dist/, then run, complete and uninstall it (offline)
	@echo "==> flux plugin install $(DIST_VERSION) in a throwaway FLUXCD_PLUGINS"
	@$(DIST_TOOL) flux-test -version $(DIST_VERSION) -dist $(DIST_DIR) -catalog $(FLUX_CATALOG_DIR) -flux $(FLUX_BIN)/flux

.PHONY: krew-tools
krew-tools: $(KREW) $(VALIDATE_KREW_MANIFEST) ## Build the pinned krew and validate-krew-manifest into bin/

$(KREW) $(VALIDATE_KREW_MANIFEST) &:
	@echo "==> building krew and validate-krew-manifest $(KREW_VERSION) from the Go module proxy into $(KREW_TOOLS)"
	@mkdir -p $(KREW_TOOLS)
	GOBIN=$(KREW_TOOLS) go install sigs.k8s.io/krew/cmd/krew@$(KREW_VERSION) sigs.k8s.io/krew/cmd/validate-krew-manifest@$(KREW_VERSION)
	mv $(KREW_TOOLS)/krew $(KREW)

.PHONY: dist-verify
dist-verify: ## Rebuild HEAD's archives in a fresh clone elsewhere and compare with dist/checksums.txt (needs a clean tree)
	@echo "==> rebuilding $(DIST_VERSION) in a fresh clone to compare with $(DIST_DIR)/checksums.txt"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	git clone -q --no-hardlinks "$(CURDIR)" "$$tmp/src" && git -C "$$tmp/src" checkout -q $(COMMIT) && \
	$(MAKE) -C "$$tmp/src" --no-print-directory dist DIST_VERSION=$(DIST_VERSION) >"$$tmp/dist.log" 2>&1 || { cat "$$tmp/dist.log"; exit 1; }; \
	if diff -u "$(DIST_DIR)/checksums.txt" "$$tmp/src/dist/checksums.txt"; then \
		echo "  reproducible: a fresh clone of $(COMMIT) built byte-identical archives"; \
	else \
		echo "  the archives differ (uncommitted changes give other binaries: commit first)"; exit 1; \
	fi
