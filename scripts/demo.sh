#!/usr/bin/env bash
# The main job, end to end on a fresh machine: start an empty local control
# plane, build the provider, then terraform init, plan and apply
# examples/quickstart in one plan: install Istio ambient from an offline chart
# mirror, and on top of it a 90/10 canary with a header-based beta route, a
# STRICT mTLS policy for the namespace and an authorization that only lets
# the frontend call reviews. Show the plan and the objects in the cluster,
# change the canary, destroy, and tear everything down.
#
# Two stand-ins replace what this machine lacks (see README): the charts come
# from ../shared/charts served on loopback, and since no istiod process runs
# (kwok only simulates its pod), `localcluster act-like-istiod` sets the
# caBundle of istiod's webhooks the way istiod would. The provider itself
# knows nothing of either.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

bin=$(scripts/cluster-tools.sh)
export MESH_CLUSTER_BIN=$bin PATH="$bin:$PATH"
tf=$(scripts/terraform.sh)

work=$(mktemp -d "${TMPDIR:-/tmp}/mesh-demo.XXXXXX")
cleanup() {
	say "Tearing down the local cluster"
	cd "$root"
	for pid in ${helpers:-}; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$work/localcluster" down --dir "$work/cluster" || true
	rm -rf "$work"
}
trap cleanup EXIT

say "Starting an empty local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes; no mesh CRDs)"
go build -o "$work/localcluster" ./cmd/localcluster
"$work/localcluster" up --dir "$work/cluster" --no-crds >/dev/null
export KUBECONFIG="$work/cluster/kubeconfig"
kubectl get nodes

shared=${MESH_SHARED_DIR:-$root/../shared}
"$work/localcluster" serve-charts --dir "$shared/charts" --addr-file "$work/charts.url" &
helpers="$!"
"$work/localcluster" act-like-istiod --dir "$work/cluster" &
helpers="$helpers $!"
for _ in $(seq 50); do [ -s "$work/charts.url" ] && break; sleep 0.1; done
charts=$(cat "$work/charts.url")
echo "offline chart mirror: $charts"

say "Creating the workloads of the example (namespace bookinfo in ambient mode, Services reviews, reviews-v1 and reviews-v2 with their Deployments, a productpage frontend)"
kubectl apply -f examples/quickstart/workloads.yaml
kubectl -n bookinfo wait --for=condition=Available deployment --all --timeout=120s

say "Building the provider into a local provider mirror"
# A filesystem mirror, as an air-gapped user would have, so that terraform
# init installs this build and writes the lock file without a registry.
version=0.1.0
plugin_dir="$work/mirror/registry.terraform.io/meshform/mesh/$version/$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$plugin_dir"
go build -ldflags "-X main.version=$version" -o "$plugin_dir/terraform-provider-mesh_v$version" .
cat >"$work/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/meshform/mesh"]
  }
  direct {
    exclude = ["registry.terraform.io/meshform/mesh"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1
[ -t 1 ] || export TF_CLI_ARGS="-no-color"
cp -r examples/quickstart "$work/quickstart"
cd "$work/quickstart"

say "terraform init"
"$tf" init -input=false
export TF_VAR_chart_repository="$charts"
say "terraform plan: the install's objects per chart, and the exact policy objects (the CRDs are not there yet, so the policies' cluster checks warn and wait for apply)"
"$tf" plan -input=false -out=tfplan
say "terraform apply"
"$tf" apply -input=false -auto-approve tfplan
say "The control plane: Helm releases (as helm list sees them) and workloads"
kubectl -n istio-system get secrets -l owner=helm -L name,version,status
kubectl -n istio-system get deployments,daemonsets
say "The policy objects in the cluster"
kubectl -n bookinfo get httproutes.gateway.networking.k8s.io,gateways.gateway.networking.k8s.io,peerauthentications.security.istio.io,authorizationpolicies.security.istio.io \
	-l app.kubernetes.io/managed-by=terraform-provider-mesh -o yaml --show-managed-fields=false
say "terraform plan again: nothing to change"
"$tf" plan -input=false -detailed-exitcode
say "The scheduled drift check (plan -refresh-only -detailed-exitcode): exit 0, nothing changed out of band"
"$tf" plan -input=false -refresh-only -detailed-exitcode
say "Shift the canary to 50/50: the plan shows the line-level diff of the HTTPRoute"
"$tf" apply -input=false -auto-approve -var stable_weight=50 -var canary_weight=50
kubectl -n bookinfo get httproutes.gateway.networking.k8s.io reviews-canary -o jsonpath='{range .spec.rules[-1:].backendRefs[*]}{.name}={.weight}{"\n"}{end}'
say "A weight sum that is not 100 is rejected at plan time, before anything touches the cluster"
"$tf" plan -input=false -var stable_weight=60 -var canary_weight=50 && exit 1 || true
say "terraform destroy"
"$tf" destroy -input=false -auto-approve
