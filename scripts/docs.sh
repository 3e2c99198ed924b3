#!/usr/bin/env bash
# `docs.sh` regenerates docs/ with tfplugindocs; `docs.sh check` fails when the
# committed docs/ differ from what the current schema and examples generate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}
tool="$cache/tfplugindocs-v0.24.0/tfplugindocs"
if [ ! -x "$tool" ]; then
	mkdir -p "$(dirname "$tool")"
	(cd "$root/tools/docs" && go build -o "$tool" github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs)
fi
tf=$("$root/scripts/terraform.sh")

# schema DIR OUT: the provider schema as `terraform providers schema -json`
# prints it, from a build of DIR. We run the CLI ourselves, rather than let
# tfplugindocs do it, so that OpenTofu (whose default registry host differs)
# works as well as Terraform; the provider's key becomes its short name.
schema() {
	local work plugin host
	work=$(mktemp -d)
	host=registry.terraform.io
	[ "$(basename "$tf")" = tofu ] && host=registry.opentofu.org
	plugin="$work/plugins/$host/hashicorp/mesh/0.0.1/$(go env GOOS)_$(go env GOARCH)"
	mkdir -p "$plugin"
	(cd "$1" && go build -o "$plugin/terraform-provider-mesh" .)
	echo 'provider "mesh" {}' >"$work/provider.tf"
	(cd "$work" && TF_CLI_CONFIG_FILE=/dev/null "$tf" init -input=false -plugin-dir=./plugins >/dev/null &&
		TF_CLI_CONFIG_FILE=/dev/null "$tf" providers schema -json) | sed "s#\"$host/hashicorp/mesh\"#\"mesh\"#" >"$2"
	rm -rf "$work"
}

generate() {
	local json
	json=$(mktemp)
	schema "$1" "$json"
	"$tool" generate --provider-dir "$1" --provider-name mesh --rendered-provider-name "Mesh" \
		--providers-schema "$json" >/dev/null
	rm -f "$json"
}

if [ "${1:-}" != check ]; then
	generate "$root"
	exit 0
fi
# Generate into a scratch copy so that a check never edits the work tree.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 cp --parents -t "$scratch" 2>/dev/null || true)
generate "$scratch"
if ! diff -ru "$root/docs" "$scratch/docs"; then
	echo "docs.sh: docs/ is stale: run 'make docs' and commit the result" >&2
	exit 1
fi
echo "docs.sh: docs/ is up to date"
