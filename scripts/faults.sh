#!/usr/bin/env bash
# make faults: the engine's fault tests (internal/kube/faults_test.go,
# through internal/faultproxy) at every fault point of the set (the first,
# the middle and the last object, and a canary's DestinationRule), under the
# race detector, against a local control plane started for the run, and
# real priority-and-fairness 429s (faults_apf_test.go, a cluster of its own
# with APF on). make test runs one trial per fault class.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$(scripts/cluster-tools.sh)
export MESH_CLUSTER_BIN=$bin PATH="$bin:$PATH"
if [ "${MESH_TEST_EXTERNAL_CLUSTER:-}" != 1 ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/mesh-faults-cluster.XXXXXX")
	trap 'go run ./cmd/localcluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
	go run ./cmd/localcluster up --dir "$dir" >/dev/null
	export KUBECONFIG="$dir/kubeconfig" MESH_TEST_EXTERNAL_CLUSTER=1
fi
MESH_FAULT_POINTS=all go test -race ./internal/kube/ -run 'TestFault' -count=1 -timeout 60m -v "$@" | grep --line-buffered -E '^(=== RUN|\s*--- |PASS|FAIL|ok)|faults_test'

# Through the real terraform binary, every point: a real kube-apiserver
# or etcd restart mid-apply (a cluster of the test's own), the provider
# process SIGKILLed mid-create, the same two mid-upgrade of a mesh_install
# (with Helm's release records as the oracle), and a create whose rollback
# cannot finish.
TF_ACC_TERRAFORM_PATH=$(scripts/terraform.sh)
export TF_ACC_TERRAFORM_PATH TF_ACC=1
if [ "$(basename "$TF_ACC_TERRAFORM_PATH")" = tofu ]; then
	export TF_ACC_PROVIDER_HOST=registry.opentofu.org
	if [ ! -f "${TF_CLI_CONFIG_FILE:-}" ]; then
		TF_CLI_CONFIG_FILE=$(mktemp "${TMPDIR:-/tmp}/tofu-cli.XXXXXX.tfrc")
		export TF_CLI_CONFIG_FILE
	fi
fi
MESH_FAULT_POINTS=all go test ./internal/provider/ -run 'TestAccControlPlaneRestartMidApply|TestAccProviderKilledMidCreate|TestAccInstallFaultsMidUpgrade|TestAccInstallFaultsKilledFirstInstall|TestAccInstallFaultsRestartDuringFirstInstall|TestAccTrafficSplit_PartialCreate' -count=1 -timeout 60m -v "$@" | grep --line-buffered -E '^(=== RUN|\s*--- |PASS|FAIL|ok)|faults_(restart|kill|install)_test'
