#!/usr/bin/env bash
# Makes a private Docker registry with password authentication answer on 127.0.0.1:5000 (Debian's
# docker-registry, htpasswd user testuser / testpassword), holding the test images the pull tests
# need. Safe to run again: each step is skipped when its result is already there. Needs a running
# Docker engine (setup-docker.sh) and, for the first run, root.
set -euo pipefail

socket="${DOCKER_SOCKET:-/var/run/docker.sock}"
dir=/var/lib/mesos-executor-test-registry
address=127.0.0.1:5000
realm=mesos-executor-test-registry
user=testuser
password=testpassword

log() { echo "setup-registry: $*" >&2; }
docker_cli() { docker -H "unix://$socket" "$@"; }

# The status line and headers of GET /v2/ (plain HTTP over bash's /dev/tcp: no curl needed).
probe() {
  local response
  response="$(timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/5000 || exit 1
    printf "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:5000\r\n\r\n" >&3
    head -c 4096 <&3
  ' 2>/dev/null)" || true
  response="${response//$'\r'/}"
  printf '%s\n' "${response%%$'\n\n'*}"
}

ours() { grep -qi "^www-authenticate: basic realm=\"$realm\"" <<<"$(probe)"; }
answering() { [ -n "$(probe)" ]; }

need_packages=()
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_packages+=(apache2-utils)
# shellcheck source=install-packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/install-packages.sh"
install_packages ${need_packages[@]+"${need_packages[@]}"}

if ! ours; then
  if answering; then
    log "something else answers on $address (not this project's registry): stop it and run this again"
    probe >&2
    exit 1
  fi
  mkdir -p "$dir/storage"
  chmod 700 "$dir"
  if ! printf '%s\n' "$password" | htpasswd -iv "$dir/htpasswd" "$user" >/dev/null 2>&1; then
    printf '%s\n' "$password" | htpasswd -iBc "$dir/htpasswd" "$user" 2>/dev/null
  fi
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: mesos-executor-test-registry
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $address
auth:
  htpasswd:
    realm: $realm
    path: $dir/htpasswd
EOF
  log "starting docker-registry on $address (log: $dir/registry.log)"
  nohup setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
  for _ in $(seq 1 100); do
    ours && break
    sleep 0.1
  done
  if ! ours; then
    log "docker-registry did not answer on $address within 10s; last lines of $dir/registry.log:"
    tail -n 20 "$dir/registry.log" >&2 || true
    exit 1
  fi
fi

tag_present() {
  [ -f "$dir/storage/docker/registry/v2/repositories/$1/_manifests/tags/$2/current/link" ]
}

# Pushes each missing test image with a login kept in a throwaway DOCKER_CONFIG.
login_dir=""
cleanup() { [ -z "$login_dir" ] || rm -rf "$login_dir"; }
trap cleanup EXIT
login() {
  [ -z "$login_dir" ] || return 0
  login_dir="$(mktemp -d)"
  if ! printf '%s' "$password" | DOCKER_CONFIG="$login_dir" docker_cli login --username "$user" --password-stdin "$address" \
    >/dev/null 2>"$login_dir/login.err"; then
    log "docker login to $address failed:"
    cat "$login_dir/login.err" >&2
    exit 1
  fi
}
push() {
  local local_image="$1" remote="$address/$2:$3"
  login
  log "pushing $local_image as $remote"
  docker_cli tag "$local_image" "$remote"
  DOCKER_CONFIG="$login_dir" docker_cli push "$remote" >/dev/null
  docker_cli rmi "$remote" >/dev/null
}

if ! tag_present private/busybox 1; then
  push mesos-executor-test/busybox:latest private/busybox 1
fi
# The same image under a tag of its own for the executor's end-to-end pull tests, which remove
# their local copy, so that they never race with the pull module's tests above.
if ! tag_present private/busybox e2e; then
  push mesos-executor-test/busybox:latest private/busybox e2e
fi

# An image of four layers (busybox plus three of 8 MB random bytes each), so that a pull takes
# long enough to report progress more than once. Its local copy goes once pushed, so that a pull
# of it downloads every layer.
if ! tag_present private/layers 1; then
  image=mesos-executor-test/layers:latest
  if ! docker_cli image inspect "$image" >/dev/null 2>&1; then
    base=mesos-executor-test/busybox:latest
    for n in 1 2 3; do
      name="mesos-executor-test-layers-$$-$n"
      docker_cli run --name "$name" --network none "$base" \
        sh -c "head -c 8388608 /dev/urandom >/layer-$n" >/dev/null
      docker_cli commit "$name" "$image" >/dev/null
      docker_cli rm "$name" >/dev/null
      base="$image"
    done
  fi
  push "$image" private/layers 1
  docker_cli rmi "$image" >/dev/null
fi

# An image whose own layer the registry has lost, so that a pull fails midway, in the progress
# stream rather than in the answer's status.
if ! tag_present private/broken 1; then
  image=mesos-executor-test/broken:latest
  name="mesos-executor-test-broken-$$"
  docker_cli run --name "$name" --network none mesos-executor-test/busybox:latest \
    sh -c 'head -c 1048576 /dev/urandom >/lost-layer' >/dev/null
  docker_cli commit "$name" "$image" >/dev/null
  docker_cli rm "$name" >/dev/null
  push "$image" private/broken 1
  docker_cli rmi "$image" >/dev/null
  blobs="$dir/storage/docker/registry/v2/blobs/sha256"
  manifest="$(cut -d: -f2 <"$dir/storage/docker/registry/v2/repositories/private/broken/_manifests/tags/1/current/link")"
  layer="$(grep -o '"digest": *"sha256:[0-9a-f]*"' "$blobs/${manifest:0:2}/$manifest/data" | tail -n 1 | grep -o '[0-9a-f]\{64\}')"
  if [ -z "$layer" ] || [ ! -f "$blobs/${layer:0:2}/$layer/data" ]; then
    log "cannot find the layer of private/broken:1 in $blobs"
    exit 1
  fi
  rm "$blobs/${layer:0:2}/$layer/data"
fi

log "registry on $address with private/busybox:1 and :e2e, private/layers:1 and private/broken:1 (user $user)"
