#!/usr/bin/env bash
# Builds the images the demo and the tests run, from Debian's static busybox (no registry is
# reachable). Each image is built only when it is missing.
set -euo pipefail

socket="${DOCKER_SOCKET:-/var/run/docker.sock}"
docker_cli() { docker -H "unix://$socket" "$@"; }
log() { echo "build-test-images: $*" >&2; }

rootfs_tar() {
  local dir
  dir="$(mktemp -d)"
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/var/www"
  cp /usr/bin/busybox "$dir/bin/busybox"
  for applet in $(/usr/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  echo 'nogroup:x:65534:' >>"$dir/etc/group"
  chmod 1777 "$dir/tmp"
  tar -C "$dir" -cf - .
  rm -rf "$dir"
}

build() {
  local name="$1"; shift
  if docker_cli image inspect "$name" >/dev/null 2>&1; then
    return
  fi
  log "importing $name"
  rootfs_tar | docker_cli import "$@" - "$name" >/dev/null
}

# A plain shell image: CMD runs a shell.
build mesos-executor-test/busybox:latest \
  -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]'
# An image with an ENTRYPOINT and a CMD, to check entrypoint semantics (like mesosphere/inky).
build mesos-executor-test/inky:latest \
  -c 'ENV PATH=/bin' -c 'ENTRYPOINT ["echo"]' -c 'CMD ["inky"]'
