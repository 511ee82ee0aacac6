#!/usr/bin/env bash
# Builds the executor's own image offline (no registry is reachable): this machine's Node, the
# built dist/ (bundle, local agent, shim) and the host programs the executor and its shim run
# (sh, env, tr, sed, readlink; nsenter, curl and bash for checks), each with the shared libraries
# ldd lists for it. The image runs the executor under --docker_mesos_image (spec 3.16.4) and is
# the executor image of the custom-executor tests.
#   bash scripts/build-executor-image.sh [image]   (default mesos-docker-executor:local)
# Rebuilt only when dist/ is newer than the image, or with FORCE=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

image="${1:-mesos-docker-executor:local}"
socket="${DOCKER_SOCKET:-/var/run/docker.sock}"
docker_cli() { docker -H "unix://$socket" "$@"; }
log() { echo "build-executor-image: $*" >&2; }

[ -f dist/executor.js ] && [ -x dist/mesos-docker-executor ] || { log "dist/ is not built: run 'npm run build' first"; exit 1; }

# The image records the digest of dist/ it was built from; an unchanged dist/ keeps the image.
digest="$(cat dist/executor.js dist/agent.js dist/mesos-docker-executor | sha256sum | cut -c1-16)"
if [ "${FORCE:-0}" != 1 ] && [ "$(docker_cli image inspect -f '{{index .Config.Labels "org.apache.mesos.executor_dist"}}' "$image" 2>/dev/null)" = "$digest" ]; then
  exit 0
fi

node_bin="$(readlink -f "$(dirname "$(node -p process.execPath)")/node")"
programs=(/bin/sh /usr/bin/env /usr/bin/tr /bin/sed /bin/readlink /usr/bin/nsenter /usr/bin/curl /bin/bash)

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

# Copies a file to the same path in the image, following links to it.
copy_in() {
  local path="$1" real
  real="$(readlink -f "$path")"
  mkdir -p "$root$(dirname "$path")"
  cp -L "$real" "$root$path"
}

copy_with_libraries() {
  local path="$1" lib
  copy_in "$path"
  # ldd prints "name => /path (addr)" or "/path (addr)" for the loader.
  for lib in $(ldd "$(readlink -f "$path")" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] || copy_in "$lib"
  done
}

for program in "${programs[@]}"; do
  [ -x "$program" ] || { log "missing $program on this machine"; exit 1; }
  copy_with_libraries "$program"
done
copy_with_libraries "$node_bin"
# The shim runs node by the absolute path recorded when dist/ was built.
recorded_node="$(sed -n 's/^node=//p' dist/mesos-docker-executor | tr -d "'" | head -n1)"
if [ -n "$recorded_node" ] && [ "$recorded_node" != "$node_bin" ]; then
  mkdir -p "$root$(dirname "$recorded_node")"
  ln -sf "$node_bin" "$root$recorded_node"
fi
# curl's TLS trust and name resolution, as on the host.
for file in /etc/ssl/certs/ca-certificates.crt /etc/nsswitch.conf; do
  [ -e "$file" ] && copy_in "$file"
done
mkdir -p "$root/opt/mesos-docker-executor/dist" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
cp dist/executor.js dist/agent.js dist/mesos-docker-executor "$root/opt/mesos-docker-executor/dist/"
# The bundles are ES modules; said so, Node loads them as such at once (see install-executor.sh).
echo '{"type":"module"}' >"$root/opt/mesos-docker-executor/dist/package.json"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

log "importing $image (dist $digest)"
tar -C "$root" -cf - . | docker_cli import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENTRYPOINT ["/opt/mesos-docker-executor/dist/mesos-docker-executor"]' \
  -c "LABEL org.apache.mesos.executor_dist=$digest" \
  - "$image" >/dev/null
