# XSKY Academy. `make` lists the targets.
SHELL := /bin/bash
GO    ?= go
ADDR  ?= 127.0.0.1:8080

.PHONY: help run test test-short test-kube build images docker site chromium deps bench validate clean postgres postgres-down k8s k8s-down

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

build: ## build labd into bin/
	$(GO) build -o bin/labd ./labd

docker: ## make sure a Docker daemon answers (installs docker.io and starts dockerd if needed)
	@scripts/docker.sh

images: docker ## build the lab images offline (skipped when their recipe is unchanged)
	@labs/images/build.sh

site: ## build the site into site/public (npm packages, Hugo, then the Pagefind search index)
	cd site && npm ci --no-audit --no-fund --loglevel=error
	cd site && rm -rf public && $(GO) tool hugo --minify --panicOnWarning --logLevel error
	cd site && node_modules/.bin/pagefind --site public --silent

chromium: ## install Debian's Chromium and a CJK font for the browser tests, when missing
	@scripts/chromium.sh

deps: ## install what labd needs besides Go: the certificate PDF fonts; poppler-utils for the PDF tests
	@scripts/deps.sh

postgres: ## start the project's own PostgreSQL in data/pg (installs Debian's postgresql if missing); prints LABD_DB=
	@scripts/postgres.sh

postgres-down: ## stop the project's PostgreSQL (its data stays in data/pg)
	@scripts/postgres.sh down

validate: ## check every lab file and certification program
	$(GO) run ./labd validate labs

run: build images site deps ## build everything and serve the portal with labd
	@mkdir -p data
	@echo "labd: open http://$(ADDR)/  (API at http://$(ADDR)/api/labs)"
	@echo "labd: an account to sign in with: bin/labd user add --email you@example.com --name You --role admin"
	@echo "labd: a token for scripts: bin/labd token --user you --role trainee"
	bin/labd serve --addr $(ADDR)

# -p 1: one package at a time, so the terminal tests do not race the Docker and browser tests
# for two cores. labd/internal/kube needs the cluster of `make test-kube`: not here yet.
test: images site chromium deps ## every test: unit, real Docker, the browser, end to end
	cd labd/internal/certificate/testdata/jose && npm ci --no-audit --no-fund --loglevel=error
	$(GO) vet ./labd/...
	$(GO) run ./labd validate labs
	@# The store's tests run on SQLite and on the project's own PostgreSQL (make postgres).
	db=$$(scripts/postgres.sh | tail -n 1) && [[ $$db == LABD_DB=postgres://* ]] && export LABD_TEST_DB=$${db#LABD_DB=} && \
		$(GO) test -count=1 -p 1 -timeout 75m $$($(GO) list ./labd/... | grep -v /labd/internal/kube$$)

test-short: ## the quick loop: no Docker
	$(GO) test -short ./labd/...

k8s: ## start a single-node Kubernetes 1.34 (built from Go modules the first time), print its exports
	@scripts/k8s.sh up

k8s-down: ## stop that cluster and remove its run state (the build stays for the next start)
	@scripts/k8s.sh down

# Not part of `make test` yet. The cluster is stopped on failure too; a cluster that
# cannot start fails the target.
test-kube: images ## the Kubernetes tests: k8s up, go test ./labd/internal/kube/, k8s down
	@scripts/k8s.sh up && KUBECONFIG=$$(scripts/k8s.sh kubeconfig) $(GO) test -count=1 -timeout 10m ./labd/internal/kube/; \
	rc=$$?; scripts/k8s.sh down; exit $$rc

bench: images site chromium ## measure the figures of the issues against their baselines
	cd scripts/lighthouse && npm ci --no-audit --no-fund --loglevel=error
	$(GO) run ./labd/cmd/labbench

clean: ## remove build output (not data/)
	rm -rf bin site/public site/resources test-output scripts/lighthouse/node_modules
