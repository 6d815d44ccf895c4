#!/usr/bin/env bash
# Builds the Go servers of the local stack from the pinned wrapper modules in modules/.
# Binaries are cached outside the repository under $KUBEMEDIC_CACHE/bin/<component>-<key>,
# where the key hashes the module's go.mod and go.sum, the link flags and the Go version: a
# second build is instant and a version bump rebuilds only the component whose module changed.
# Prints one line per component and writes $KUBEMEDIC_CACHE/bin/current.env with the paths.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KUBEMEDIC_CACHE:-$HOME/.cache/kubemedic}"
mkdir -p "$cache/bin"

module_version() { # module-dir module-path
  awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) { print ($1 == "require" ? $3 : $2); exit }' "$here/modules/$1/go.mod"
}

k8s_version="$(module_version kubernetes k8s.io/kubernetes)"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"
helm_version="$(module_version helm helm.sh/helm/v3)"
helm_k8s_minor="$(module_version helm k8s.io/client-go | cut -d. -f2)"
temporal_version="$(module_version temporal github.com/temporalio/cli)"
kwok_version="$(module_version kwok sigs.k8s.io/kwok)"
etcd_version="$(module_version etcd go.etcd.io/etcd/server/v3)"
temporal_server_version="$(module_version temporal-server go.temporal.io/server)"
component_base=k8s.io/component-base/version
# Without these /version reports v0.0.0-master and Helm's kubeVersion checks break.
k8s_ldflags="-X $component_base.gitVersion=$k8s_version -X $component_base.gitMajor=1 -X $component_base.gitMinor=$k8s_minor -X $component_base.gitTreeState=clean"
# component  module-dir  package  version  ldflags
components=(
  "temporal|temporal|github.com/temporalio/cli/cmd/temporal|$temporal_version|-X github.com/temporalio/cli/temporalcli.Version=${temporal_version#v}"
  "etcd|etcd|.|$etcd_version|"
  "temporal-server|temporal-server|go.temporal.io/server/cmd/server|$temporal_server_version|"
  "temporal-sql-tool|temporal-server|go.temporal.io/server/cmd/tools/sql|$temporal_server_version|"
  "kube-apiserver|kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|$k8s_version|$k8s_ldflags"
  "kube-controller-manager|kubernetes|k8s.io/kubernetes/cmd/kube-controller-manager|$k8s_version|$k8s_ldflags"
  "kube-scheduler|kubernetes|k8s.io/kubernetes/cmd/kube-scheduler|$k8s_version|$k8s_ldflags"
  "kwok|kwok|sigs.k8s.io/kwok/cmd/kwok|$kwok_version|-X sigs.k8s.io/kwok/pkg/consts.Version=$kwok_version"
  "helm|helm|helm.sh/helm/v3/cmd/helm|$helm_version|-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$helm_k8s_minor -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$helm_k8s_minor"
)

env_file="$cache/bin/current.env"
: > "$env_file.tmp"
total_start=$SECONDS
for entry in "${components[@]}"; do
  IFS='|' read -r name module package version ldflags <<< "$entry"
  key="$( (cat "$here/modules/$module/go.mod" "$here/modules/$module/go.sum"; echo "$ldflags"; go version) | sha256sum | cut -c1-12)"
  out="$cache/bin/$name-$version-$key/$name"
  if [[ -x "$out" ]]; then
    echo "devstack build: $name $version cached ($out)"
  else
    start=$SECONDS
    mkdir -p "$(dirname "$out")"
    (cd "$here/modules/$module" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.partial" "$package")
    mv "$out.partial" "$out"
    echo "devstack build: $name $version built in $((SECONDS - start))s ($out)"
  fi
  var="$(echo "$name" | tr 'a-z-' 'A-Z_')_BIN"
  echo "$var=$out" >> "$env_file.tmp"
done
# temporal-sql-tool's PostgreSQL schema ships in the server's module, not in the binary: it is
# copied beside the tool, so the stack reads it from the cache and never downloads at run time.
sql_tool_dir="$(dirname "$(sed -n 's/^TEMPORAL_SQL_TOOL_BIN=//p' "$env_file.tmp")")"
if [[ ! -d "$sql_tool_dir/schema/postgresql" ]]; then
  module_dir="$(cd "$here/modules/temporal-server" && go list -m -f '{{.Dir}}' go.temporal.io/server)"
  rm -rf "$sql_tool_dir/schema.partial" && mkdir -p "$sql_tool_dir/schema.partial"
  cp -r "$module_dir/schema/postgresql" "$sql_tool_dir/schema.partial/"
  chmod -R u+w "$sql_tool_dir/schema.partial" # the module cache is read-only
  mv "$sql_tool_dir/schema.partial" "$sql_tool_dir/schema"
  echo "devstack build: temporal-sql-tool schema copied ($sql_tool_dir/schema)"
fi
mv "$env_file.tmp" "$env_file"
echo "devstack build: all servers ready in $((SECONDS - total_start))s; paths in $env_file"
