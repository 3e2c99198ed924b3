#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy into a
# cache outside the repository, keyed by version, and prints the cache's bin
# directory. A second run finds them and returns at once.
#
#   MESH_CACHE_DIR  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mesh}

k8s_version=v1.34.2
etcd_version=v3.6.5
kwok_version=v0.8.0

log() { echo "cluster-tools: $*" >&2; }

# build MODULE_DIR OUT_DIR PKG [LDFLAGS]: go build PKG into OUT_DIR unless present.
build() {
	local moddir=$1 out=$2 pkg=$3 ldflags=${4:-}
	local name=${pkg##*/}
	[ "$name" = v3 ] && name=etcd
	if [ -x "$out/$name" ]; then return; fi
	mkdir -p "$out"
	log "building $name into $out (first run only)"
	(cd "$root/tools/$moddir" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg")
	mv "$out/$name.tmp" "$out/$name"
}

k8s_ldflags="-X k8s.io/component-base/version.gitVersion=$k8s_version \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 \
-X k8s.io/client-go/pkg/version.gitVersion=$k8s_version"

k8s_out="$cache/kubernetes-$k8s_version"
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
	build kube "$k8s_out" "k8s.io/kubernetes/cmd/$cmd" "$k8s_ldflags"
done
build etcd "$cache/etcd-$etcd_version" go.etcd.io/etcd/server/v3
build kwok "$cache/kwok-$kwok_version" sigs.k8s.io/kwok/cmd/kwok

# The kwok stage configs ship in its module; copy them next to the binary.
stages="$cache/kwok-$kwok_version/stage"
if [ ! -f "$stages/pod-delete.yaml" ]; then
	dir=$(cd "$root/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
	mkdir -p "$stages"
	for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		cp "$dir/kustomize/stage/$f" "$stages/"
	done
	chmod u+w "$stages"/*
fi

bin="$cache/bin"
mkdir -p "$bin"
for f in "$k8s_out"/* "$cache/etcd-$etcd_version/etcd" "$cache/kwok-$kwok_version/kwok"; do
	ln -sf "$f" "$bin/$(basename "$f")"
done
echo "$bin"
