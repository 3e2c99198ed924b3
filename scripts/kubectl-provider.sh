#!/usr/bin/env bash
# Builds the benchmark's peer, terraform-provider-kubectl (kubectl_manifest),
# from the pinned module (tools/kubectl-provider) into the cache, once, and
# prints the directory that holds it (for a dev_overrides entry).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}
version=$(cd "$root/tools/kubectl-provider" && go list -m -f '{{.Version}}' github.com/gavinbunney/terraform-provider-kubectl)
out="$cache/terraform-provider-kubectl-$version"
if [ ! -x "$out/terraform-provider-kubectl" ]; then
	echo "kubectl-provider.sh: building terraform-provider-kubectl $version into $out (first run only)" >&2
	mkdir -p "$out"
	(cd "$root/tools/kubectl-provider" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
		-o "$out/terraform-provider-kubectl.tmp" github.com/gavinbunney/terraform-provider-kubectl)
	mv "$out/terraform-provider-kubectl.tmp" "$out/terraform-provider-kubectl"
fi
echo "$out"
