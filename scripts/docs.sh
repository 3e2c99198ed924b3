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

# tfplugindocs reads the schema through `terraform providers schema`; offer it
# the same CLI the tests use (OpenTofu, named terraform, when that is all).
tf=$("$root/scripts/terraform.sh")
if [ "$(basename "$tf")" != terraform ]; then
	shim="$cache/terraform-shim"
	mkdir -p "$shim" && ln -sf "$tf" "$shim/terraform"
	export PATH="$shim:$PATH"
fi

generate() {
	"$tool" generate --provider-dir "$1" --provider-name mesh --rendered-provider-name "Mesh" >/dev/null
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
