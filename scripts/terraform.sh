#!/usr/bin/env bash
# Prints the path of a Terraform-compatible CLI for the acceptance tests:
# $TF_ACC_TERRAFORM_PATH, else terraform on PATH (e.g. /usr/local/bin/terraform),
# else OpenTofu v1.12.6 built once from the Go module proxy into the cache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}

if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ] && [ -x "$TF_ACC_TERRAFORM_PATH" ]; then
	echo "$TF_ACC_TERRAFORM_PATH"; exit 0
fi
if tf=$(command -v terraform 2>/dev/null); then
	echo "$tf"; exit 0
fi
out="$cache/opentofu-v1.12.6"
if [ ! -x "$out/tofu" ]; then
	echo "terraform.sh: no terraform on PATH; building OpenTofu v1.12.6 into $out (first run only)" >&2
	mkdir -p "$out"
	(cd "$root/tools/tofu" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out/tofu.tmp" github.com/opentofu/opentofu/cmd/tofu)
	mv "$out/tofu.tmp" "$out/tofu"
fi
echo "$out/tofu"
