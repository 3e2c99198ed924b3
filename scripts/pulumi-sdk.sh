#!/usr/bin/env bash
# The Pulumi schema and SDKs, generated from the Terraform provider's schema
# through pulumi-terraform-bridge (provider/).
#
#   scripts/pulumi-sdk.sh schema    provider/cmd/pulumi-resource-mesh/schema.json
#   scripts/pulumi-sdk.sh sdks      the schema, then sdk/{go,nodejs,python,dotnet}
#   scripts/pulumi-sdk.sh check     fails when the committed schema or SDKs are
#                                   stale against the Terraform schema
#   scripts/pulumi-sdk.sh compile   builds the Go SDK and the Go example,
#                                   `npm ci` + `tsc --strict` of the TypeScript
#                                   SDK, type-checks the TypeScript example
#                                   against it, `python3 -m compileall` of the
#                                   Python SDK (no .NET toolchain here)
#
# VERSION (default 0.1.0) is stamped into the plugin, the schema and the SDKs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${VERSION:-0.1.0}
ldflags="-X github.com/meshform/terraform-provider-mesh/provider/version.Version=$version"
languages="go nodejs python dotnet"
# Pulumi's TypeScript generator derives relative imports from
# filepath.Rel(module, ""), which Go 1.26 changed from "../." to "..": built
# with Go 1.26, config/vars.ts imports "./utilities" and does not compile.
# Build the generator with the last Go release line it was written against
# (the go command downloads this toolchain from the module proxy, once).
generator_toolchain=go1.25.9

tfgen() {
	(cd provider && GOTOOLCHAIN=$generator_toolchain go build -o "$root/bin/pulumi-tfgen-mesh" -ldflags "$ldflags" ./cmd/pulumi-tfgen-mesh)
	# The bridge prints each doc example it cannot convert; keep that in a
	# log and show it only when generation fails.
	local log
	log=$(mktemp)
	if ! bin/pulumi-tfgen-mesh schema --out provider/cmd/pulumi-resource-mesh >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		return 1
	fi
	grep -E '^(Success rate|Converted)' "$log" | sed 's/^/pulumi-sdk.sh: examples: /' >&2 || true
	rm -f "$log"
}

sdks() {
	tfgen
	for lang in $languages; do
		bin/pulumi-tfgen-mesh "$lang" --out "sdk/$lang"
	done
}

check() {
	local scratch
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' RETURN
	# A copy of the working tree (tracked and new files, none ignored), so
	# that generation cannot touch the checkout.
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$scratch"
	(cd "$scratch" && VERSION=$version scripts/pulumi-sdk.sh sdks >/dev/null 2>&1) || {
		echo "pulumi-sdk.sh: generation failed; run scripts/pulumi-sdk.sh sdks to see why" >&2
		return 1
	}
	local stale=0
	for path in provider/cmd/pulumi-resource-mesh sdk; do
		if ! diff -r -q -x node_modules -x bin -x '*.pyc' -x __pycache__ "$path" "$scratch/$path" >&2; then
			stale=1
		fi
	done
	if [ "$stale" = 1 ]; then
		echo "pulumi-sdk.sh: the committed Pulumi schema or SDKs are stale; run make build_sdks and commit the result" >&2
		return 1
	fi
	echo "pulumi-sdk.sh: schema and SDKs are up to date" >&2
}

compile() {
	(cd sdk && go build ./... && go vet ./...)
	(cd examples/pulumi/go && go build -o /dev/null .)
	(cd sdk/nodejs && npm ci --no-audit --no-fund --loglevel=error && node_modules/.bin/tsc --strict)
	sdk/nodejs/node_modules/.bin/tsc --strict -p examples/pulumi/typescript/tsconfig.check.json
	python3 -m compileall -q sdk/python/pulumi_meshform_mesh
	echo "pulumi-sdk.sh: Go, TypeScript and Python SDKs compile" >&2
}

case "${1:-sdks}" in
schema) tfgen ;;
sdks) sdks ;;
check) check ;;
compile) compile ;;
*)
	echo "usage: scripts/pulumi-sdk.sh schema|sdks|check|compile" >&2
	exit 2
	;;
esac
