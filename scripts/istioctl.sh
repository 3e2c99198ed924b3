#!/usr/bin/env bash
# Builds istioctl from the pinned istio.io/istio module (tools/istio) into the
# cache, once, and prints its path. The tests use `istioctl analyze` as an
# independent check of the Istio objects the provider renders.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}
version=$(cd "$root/tools/istio" && go list -m -f '{{.Version}}' istio.io/istio)
out="$cache/istioctl-$version"
if [ ! -x "$out/istioctl" ]; then
	echo "istioctl.sh: building istioctl $version into $out (first run only, several minutes)" >&2
	mkdir -p "$out"
	(cd "$root/tools/istio" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/istioctl.tmp" istio.io/istio/istioctl/cmd/istioctl)
	mv "$out/istioctl.tmp" "$out/istioctl"
fi
echo "$out/istioctl"
