#!/usr/bin/env bash
# The main job, end to end on a fresh machine: start a local control plane,
# build the provider, then terraform init, plan and apply examples/quickstart
# (a 90/10 canary with a header-based beta route), show the plan and the
# objects in the cluster, destroy, and tear everything down.
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
	go run ./cmd/localcluster down --dir "$work/cluster" || true
	rm -rf "$work"
}
trap cleanup EXIT

say "Starting a local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)"
go run ./cmd/localcluster up --dir "$work/cluster" >/dev/null
export KUBECONFIG="$work/cluster/kubeconfig"
kubectl get nodes

say "Creating the workloads the example routes (namespace bookinfo, Service reviews, Deployments v1 and v2)"
kubectl apply -f examples/quickstart/workloads.yaml
kubectl -n bookinfo wait --for=condition=Available deployment --all --timeout=120s

say "Building the provider"
mkdir -p "$work/plugins"
go build -o "$work/plugins/terraform-provider-mesh" .
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "meshform/mesh" = "$work/plugins"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1
cp -r examples/quickstart "$work/quickstart"
cd "$work/quickstart"

say "terraform init"
"$tf" init -input=false -no-color | grep -v '^$' || true
say "terraform plan (the exact objects that will be created)"
"$tf" plan -input=false -out=tfplan
say "terraform apply"
"$tf" apply -input=false -auto-approve tfplan
say "The objects in the cluster"
kubectl -n bookinfo get virtualservices.networking.istio.io,destinationrules.networking.istio.io \
	-l app.kubernetes.io/managed-by=terraform-provider-mesh -o yaml --show-managed-fields=false
say "terraform plan again: nothing to change"
"$tf" plan -input=false -detailed-exitcode
say "terraform destroy"
"$tf" destroy -input=false -auto-approve
