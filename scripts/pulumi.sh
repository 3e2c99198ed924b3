#!/usr/bin/env bash
# Builds the Pulumi CLI from the pinned github.com/pulumi/pulumi/pkg/v3 module
# (tools/pulumi) into the cache, once, and prints its root: the CLI is
# <root>/bin/pulumi, the layout the Automation API's PulumiCommandOptions.Root
# expects.
# There is no Pulumi release download on these machines; the Automation API
# tests and the local plugin install use this CLI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}
version=$(cd "$root/tools/pulumi" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
out="$cache/pulumi-$version"
if [ ! -x "$out/bin/pulumi" ]; then
	echo "pulumi.sh: building the Pulumi CLI $version into $out (first run only, several minutes)" >&2
	mkdir -p "$out/bin"
	(cd "$root/tools/pulumi" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
		-o "$out/bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
	mv "$out/bin/pulumi.tmp" "$out/bin/pulumi"
fi
echo "$out"
