#!/usr/bin/env bash
# Runs every test tier, as CI does: vet, unit and golden tests, integration
# tests of the engine and acceptance tests through the real terraform binary,
# all against one local control plane that this script starts and stops.
#
# To run against another cluster (kind, say) instead of the local one:
#   MESH_TEST_EXTERNAL_CLUSTER=1 KUBECONFIG=~/.kube/kind make test
# That cluster needs the Istio, Gateway API and Linkerd CRDs (see README).
#
# Extra arguments go to `go test` (e.g. -run TestAcc); MESH_TEST_PACKAGES
# narrows the packages (default ./...). The Pulumi tier (provider/ and sdk/:
# schema and SDK staleness, SDK compiles, token tests and the Automation API
# end-to-end test) runs with the full set; MESH_TEST_PULUMI=0|1 overrides.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=$(scripts/cluster-tools.sh)
export MESH_CLUSTER_BIN=$bin PATH="$bin:$PATH"
TF_ACC_TERRAFORM_PATH=$(scripts/terraform.sh)
ISTIOCTL=$(scripts/istioctl.sh)
export TF_ACC_TERRAFORM_PATH ISTIOCTL TF_ACC=1
if [ "$(basename "$TF_ACC_TERRAFORM_PATH")" = tofu ]; then
	# OpenTofu resolves unqualified providers under its own registry host.
	export TF_ACC_PROVIDER_HOST=registry.opentofu.org
	# OpenTofu 1.12 warns on stdout when its CLI configuration file (the
	# default, or a TF_CLI_CONFIG_FILE that does not exist) is missing,
	# which the test framework then fails to parse.
	if [ ! -f "${TF_CLI_CONFIG_FILE:-}" ]; then
		TF_CLI_CONFIG_FILE=$(mktemp "${TMPDIR:-/tmp}/tofu-cli.XXXXXX.tfrc")
		export TF_CLI_CONFIG_FILE
	fi
fi
echo "test.sh: terraform CLI: $TF_ACC_TERRAFORM_PATH ($("$TF_ACC_TERRAFORM_PATH" version | head -n1))"

# vet, gofmt and golangci-lint, of the provider and the Pulumi bridge.
scripts/lint.sh
scripts/docs.sh check

run_pulumi=${MESH_TEST_PULUMI:-$([ -z "${MESH_TEST_PACKAGES:-}" ] && echo 1 || echo 0)}
if [ "$run_pulumi" = 1 ]; then
	scripts/pulumi-sdk.sh check
	scripts/pulumi-sdk.sh compile
	MESH_PULUMI_ROOT=$(scripts/pulumi.sh)
	export MESH_PULUMI_ROOT
fi

if [ "${MESH_TEST_EXTERNAL_CLUSTER:-}" != 1 ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/mesh-test-cluster.XXXXXX")
	trap 'go run ./cmd/localcluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
	go run ./cmd/localcluster up --dir "$dir" >/dev/null
	export KUBECONFIG="$dir/kubeconfig" MESH_TEST_EXTERNAL_CLUSTER=1
fi

# -p 1: one test binary at a time. Several packages start clusters of their
# own (install tests) beside the shared one; on two cores, running them in
# parallel starves control-plane bootstraps. vet above already compiled.
pkgs=${MESH_TEST_PACKAGES:-./...}
if [ -z "${MESH_TEST_PACKAGES:-}" ]; then
	# The engine (its read cache, retries and rollback, and the fault tests'
	# one trial per fault class: make faults runs them all) and the
	# provider's unit tests, under the race detector. The engine's package
	# then stays out of the plain run.
	go test -race ./internal/kube/ ./internal/faultproxy/ ./internal/protoserver/ -p 1 -count=1 -timeout 30m "$@"
	TF_ACC='' go test -race -short ./internal/provider/ -count=1 -timeout 30m "$@"
	pkgs=$(go list ./... | grep -v '/internal/kube$')
fi
# shellcheck disable=SC2086 # a list of packages
go test $pkgs -p 1 -count=1 -timeout 60m "$@"
if [ "$run_pulumi" = 1 ]; then
	(cd provider && go test ./... -p 1 -count=1 -timeout 20m "$@")
fi
