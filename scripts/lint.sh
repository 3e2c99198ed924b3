#!/usr/bin/env bash
# Lints the provider and the Pulumi bridge: go vet, gofmt and golangci-lint
# (.golangci.yml), built once from the module proxy (tools/lint) into the
# cache. make lint and make test run it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}
version=$(cd tools/lint && go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2)
tool="$cache/golangci-lint-$version/golangci-lint"
if [ ! -x "$tool" ]; then
	echo "lint.sh: building golangci-lint $version into $(dirname "$tool") (first run only)" >&2
	mkdir -p "$(dirname "$tool")"
	(cd tools/lint && CGO_ENABLED=0 go build -trimpath -o "$tool.tmp" github.com/golangci/golangci-lint/v2/cmd/golangci-lint)
	mv "$tool.tmp" "$tool"
fi

go vet ./...
(cd provider && go vet ./...)
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^sdk/') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "lint.sh: gofmt needed (make fmt): $unformatted" >&2
	exit 1
fi
"$tool" run ./...
(cd provider && "$tool" run --config ../.golangci.yml ./...)
