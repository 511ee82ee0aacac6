#!/usr/bin/env bash
# Makes a private Docker registry with password authentication answer on a loopback port (Debian's
# docker-registry, htpasswd user testuser / testpassword), holding the test images the pull tests
# need, and records its address (127.0.0.1:<port>) in /run/mesos-executor-test-registry/address,
# where the tests read it (test/helpers/registry.ts). The port is the one recorded before, else the
# last one started here, else 5000, when this project's registry answers there or nothing listens
# there; otherwise a free port the kernel picks, so that another server on 5000 is left alone.
# Docker pulls from 127.0.0.0/8 over plain HTTP by default (its insecure-registry default), whatever
# the port. Safe to run again: each step is skipped when its result is already there. Needs a
# running Docker engine (setup-docker.sh) and, for the first run, root. TEST_REGISTRY_DIR,
# TEST_REGISTRY_ADDRESS_FILE and TEST_REGISTRY_PORT (the port preferred, 5000) set up a second,
# separate registry, e.g. to try this script beside the first one.
set -euo pipefail

socket="${DOCKER_SOCKET:-/var/run/docker.sock}"
dir="${TEST_REGISTRY_DIR:-/var/lib/mesos-executor-test-registry}"
address_file="${TEST_REGISTRY_ADDRESS_FILE:-/run/mesos-executor-test-registry/address}"
preferred_port="${TEST_REGISTRY_PORT:-5000}"
realm=mesos-executor-test-registry
user=testuser
password=testpassword

log() { echo "setup-registry: $*" >&2; }
docker_cli() { docker -H "unix://$socket" "$@"; }

# The status line and headers of GET /v2/ on 127.0.0.1:$1 (plain HTTP over bash's /dev/tcp: no
# curl needed).
probe() {
  local response
  response="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n" "$1" >&3
    head -c 4096 <&3
  ' probe "$1" 2>/dev/null)" || true
  response="${response//$'\r'/}"
  printf '%s\n' "${response%%$'\n\n'*}"
}

ours() { grep -qi "^www-authenticate: basic realm=\"$realm\"" <<<"$(probe "$1")"; }
# Anything accepting connections on the port, HTTP or not.
listening() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' listening "$1" 2>/dev/null; }
# A loopback port nothing listens on, chosen by the kernel.
free_port() { node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }

# The ports tried first, each once: the one recorded, the one of the last registry started here, 5000.
candidates() {
  {
    [ ! -f "$address_file" ] || sed -n 's/^127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$address_file"
    [ ! -f "$dir/config.yml" ] || sed -n 's/^  addr: 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/config.yml"
    echo "$preferred_port"
  } | awk '!seen[$0]++'
}

need_packages=()
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_packages+=(apache2-utils)
# shellcheck source=install-packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/install-packages.sh"
install_packages ${need_packages[@]+"${need_packages[@]}"}

# One run at a time (several checkouts may run their tests at once): two would start two registries.
mkdir -p "$(dirname "$address_file")"
exec 9>"$address_file.lock"
flock 9

port=""
for candidate in $(candidates); do
  if ours "$candidate"; then
    port="$candidate"
    break
  fi
done

if [ -z "$port" ]; then
  for candidate in $(candidates); do
    if ! listening "$candidate"; then
      port="$candidate"
      break
    fi
    log "something else answers on 127.0.0.1:$candidate (not this project's registry): leaving it alone"
  done
  [ -n "$port" ] || port="$(free_port)"
  address="127.0.0.1:$port"
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
  # Without the lock's descriptor, which it would otherwise hold for as long as it runs.
  nohup setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 1 100); do
    ours "$port" && break
    sleep 0.1
  done
  if ! ours "$port"; then
    log "docker-registry did not answer on $address within 10s; last lines of $dir/registry.log:"
    tail -n 20 "$dir/registry.log" >&2 || true
    exit 1
  fi
fi
address="127.0.0.1:$port"
printf '%s\n' "$address" >"$address_file.tmp"
mv "$address_file.tmp" "$address_file"

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
