# eksbg — see README.md. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/eksbg
PKG       := github.com/eksbg/eksbg
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -X $(PKG)/internal/version.version=$(VERSION) -X $(PKG)/internal/version.commit=$(COMMIT) -X $(PKG)/internal/version.date=$(DATE)
CACHE     := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/eksbg
STATICCHECK_VERSION := v0.8.2
FUZZTIME  ?= 10s

.PHONY: help build unit test test-race test-deps kube-bins argocd-bins lint fuzz demo demo-tui bench clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/eksbg with the version stamped
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/eksbg

test-deps: ## install what the tests need (AWS CLI v2, moto server)
	@hack/test-deps.sh

kube-bins: ## build the sandbox's etcd, Kubernetes control plane and kwok (cached)
	@hack/kube-bins.sh >/dev/null

argocd-bins: ## build the sandbox's Argo CD and get redis-server (cached)
	@hack/argocd-bins.sh >/dev/null

unit: ## the quick loop: every test that starts no external program (go test -short)
	$(GO) test -short -timeout 5m ./...

test: test-deps kube-bins argocd-bins ## run every test, then each fuzz target briefly
	$(GO) test -count=1 -timeout 60m ./...
	@$(MAKE) --no-print-directory fuzz

test-race: test-deps kube-bins argocd-bins ## run every test with the race detector
	$(GO) test -race -count=1 -timeout 90m ./...

fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	@hack/fuzz.sh $(FUZZTIME)

lint: ## go vet and staticcheck
	$(GO) vet ./...
	@test -x $(CACHE)/bin/staticcheck-$(STATICCHECK_VERSION) || { mkdir -p $(CACHE)/bin && GOBIN=$(CACHE)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) && mv $(CACHE)/bin/staticcheck $(CACHE)/bin/staticcheck-$(STATICCHECK_VERSION); }
	$(CACHE)/bin/staticcheck-$(STATICCHECK_VERSION) ./...

demo: build kube-bins argocd-bins ## start the sandbox and show what it serves, through eksbg
	@hack/demo.sh $(BIN)

demo-tui: build kube-bins argocd-bins ## start the sandbox and open eksbg's terminal UI on it
	@hack/demo-tui.sh $(BIN)

bench: kube-bins argocd-bins ## run the Go benchmarks (emulator throughput, the sandbox upgrade against its waits)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

clean: ## remove build output
	rm -rf bin
