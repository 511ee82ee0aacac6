#!/usr/bin/env bash
# Makes a Docker engine available on this machine (installing Debian's docker.io and starting
# dockerd where missing), then builds the local test images. Safe to run again: each step is
# skipped when its result is already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
socket="${DOCKER_SOCKET:-/var/run/docker.sock}"

log() { echo "setup-docker: $*" >&2; }

engine_up() { docker -H "unix://$socket" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
[ -x /usr/bin/busybox ] && /usr/bin/busybox --list >/dev/null 2>&1 || need_packages+=(busybox-static)
# The fetcher decompresses .bz2 and .xz archives with these (by absolute path); the fetcher tests
# build their archives with tar and zip.
[ -x /usr/bin/bzip2 ] || need_packages+=(bzip2)
[ -x /usr/bin/xz ] || need_packages+=(xz-utils)
[ -x /usr/bin/tar ] || need_packages+=(tar)
[ -x /usr/bin/zip ] || need_packages+=(zip)
# The local agent's console is tested in a real headless browser.
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
# shellcheck source=install-packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/install-packages.sh"
install_packages ${need_packages[@]+"${need_packages[@]}"}

if ! engine_up; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no Docker engine answers on $socket and only root can start one"
    exit 1
  fi
  log "starting dockerd (log: /var/log/dockerd.log)"
  # DOCKERD_FLAGS adds daemon options (the tests restart the daemon with --live-restore).
  # shellcheck disable=SC2086
  nohup dockerd --host "unix://$socket" ${DOCKERD_FLAGS:-} >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    engine_up && break
    sleep 0.5
  done
  if ! engine_up; then
    log "dockerd did not come up within 60s; last lines of /var/log/dockerd.log:"
    tail -n 20 /var/log/dockerd.log >&2 || true
    exit 1
  fi
fi
log "engine $(docker -H "unix://$socket" version --format '{{.Server.Version}}') on $socket"

"$here/build-test-images.sh"
