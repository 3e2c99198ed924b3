#!/usr/bin/env bash
# The main job, end to end on a fresh machine: start a local control plane,
# build the provider, then terraform init, plan and apply examples/quickstart
# (a 90/10 canary with a header-based beta route, a STRICT mTLS policy for the
# namespace and an authorization that only lets the frontend call reviews),
# show the plan and the objects in the cluster, destroy, and tear everything
# down.
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
	go run ./cmd/localcluster down --dir "$work/cluster" || true
	rm -rf "$work"
}
trap cleanup EXIT

say "Starting a local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)"
go run ./cmd/localcluster up --dir "$work/cluster" >/dev/null
export KUBECONFIG="$work/cluster/kubeconfig"
kubectl get nodes

say "Creating the workloads of the example (namespace bookinfo, Service reviews with Deployments v1 and v2, a productpage frontend)"
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
say "terraform plan (the exact objects that will be created)"
echo "(This local cluster runs no istiod, so no pod gets a sidecar: the MESH-MTLS-010 warning below shows what STRICT would do to them.)"
"$tf" plan -input=false -out=tfplan
say "terraform apply"
"$tf" apply -input=false -auto-approve tfplan
say "The objects in the cluster"
kubectl -n bookinfo get virtualservices.networking.istio.io,destinationrules.networking.istio.io,peerauthentications.security.istio.io,authorizationpolicies.security.istio.io \
	-l app.kubernetes.io/managed-by=terraform-provider-mesh -o yaml --show-managed-fields=false
say "terraform plan again: nothing to change"
"$tf" plan -input=false -detailed-exitcode
say "Shift the canary to 50/50: the plan shows the line-level diff of the VirtualService"
"$tf" apply -input=false -auto-approve -var stable_weight=50 -var canary_weight=50
kubectl -n bookinfo get virtualservices.networking.istio.io reviews-canary -o jsonpath='{range .spec.http[-1:].route[*]}{.destination.subset}={.weight}{"\n"}{end}'
say "A weight sum that is not 100 is rejected at plan time, before anything touches the cluster"
"$tf" plan -input=false -var stable_weight=60 -var canary_weight=50 && exit 1 || true
say "terraform destroy"
"$tf" destroy -input=false -auto-approve
