#!/bin/sh
# Installs the executor from an unpacked release tarball (npm pack) into a directory only root can
# write, and records in its shim the Node of this host: the shim runs Node by the absolute path
# written at build time, which another machine may not have (docs/shim.md).
#   sh scripts/install-executor.sh [--prefix=/opt/mesos-docker-executor] [--node=/usr/bin/node]
# Without --node, the node found on PATH is used, resolved to its real file.
set -eu
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

fail() {
  echo "install-executor: $*" >&2
  exit 1
}

prefix=/opt/mesos-docker-executor
node=
for arg in "$@"; do
  case $arg in
    --prefix=*) prefix=${arg#--prefix=} ;;
    --node=*) node=${arg#--node=} ;;
    --help)
      echo "Usage: sh install-executor.sh [--prefix=/opt/mesos-docker-executor] [--node=<absolute path of node>]"
      exit 0
      ;;
    *) fail "unknown argument '$arg': expected --prefix=<dir>, --node=<path> or --help" ;;
  esac
done

[ "$(id -u)" = 0 ] || fail "must run as root: the executor runs as root, so its files and its Node must be root's"

# Fails unless root owns the path and every directory above it, and no one else can write them
# (a world-writable directory with the sticky bit, such as /tmp, lets no one else rename entries).
root_only() {
  what=$1
  path=$2
  while :; do
    owner_mode=$(stat -c '%u %a' -- "$path") || fail "cannot stat $path"
    owner=${owner_mode% *}
    mode=${owner_mode#* }
    [ "$owner" = 0 ] || fail "$what: $path is owned by uid $owner: expected root"
    if [ $((0$mode & 022)) != 0 ] && { [ ! -d "$path" ] || [ $((0$mode & 01000)) = 0 ]; }; then
      fail "$what: $path is writable by others (mode $mode): expected only root to write it"
    fi
    [ "$path" = / ] && break
    path=${path%/*}
    [ -n "$path" ] || path=/
  done
}

package=$(readlink -f -- "$0")
package=${package%/*/*}
for file in executor.js agent.js mesos-docker-executor; do
  [ -f "$package/dist/$file" ] || fail "no $package/dist/$file: run this from an unpacked release tarball (npm pack)"
done
[ "$(grep -c '^node=' "$package/dist/mesos-docker-executor")" = 1 ] \
  || fail "$package/dist/mesos-docker-executor has no single node= line: is it the shim from this release?"

if [ -z "$node" ]; then
  node=$(command -v node) || fail "no node on PATH: give --node=<absolute path of a root-owned node, version 20 or later>"
fi
case $node in
  /*) ;;
  *) fail "--node '$node': expected an absolute path" ;;
esac
real=$(readlink -f -- "$node") || fail "--node '$node' does not exist"
case $real in
  *[!A-Za-z0-9._+@/-]*) fail "Node at '$real': expected a path of letters, digits and ._+@/- only" ;;
esac
[ -f "$real" ] && [ -x "$real" ] || fail "Node at '$real' is not an executable file"
root_only "Node" "$real"
major=$(/usr/bin/env -i "$real" -p 'process.versions.node.split(".")[0]') || fail "Node at '$real' does not run"
[ "$major" -ge 20 ] 2>/dev/null || fail "Node at '$real' is version $major: expected 20 or later"

case $prefix in
  /*) ;;
  *) fail "--prefix '$prefix': expected an absolute path" ;;
esac
prefix=${prefix%/}
[ ! -L "$prefix" ] || fail "--prefix '$prefix' is a symbolic link: give the real directory"
existing=$prefix
while [ ! -e "$existing" ]; do
  existing=${existing%/*}
  [ -n "$existing" ] || existing=/
done
root_only "--prefix" "$(readlink -f -- "$existing")"
mkdir -p -- "$prefix"
[ -d "$prefix" ] || fail "--prefix '$prefix' is not a directory"
# Checked on its real path: a linked directory above it must be root's too.
prefix=$(readlink -f -- "$prefix")
root_only "--prefix" "$prefix"

# Each file is written beside its final name and renamed over it, so an agent starting an executor
# meanwhile runs either the old file or the new one, never half of one. The bundles go first.
put() {
  name=$1
  mode=$2
  temporary="$prefix/.$name.$$"
  cat >"$temporary"
  chown 0:0 "$temporary"
  chmod "$mode" "$temporary"
  mv -f -- "$temporary" "$prefix/$name"
}
# The bundles are ES modules: said so beside them, Node loads them as such at once. Without it,
# Node 20.19 and later first try them as CommonJS (2.4 MiB more memory per executor), and earlier
# versions refuse them.
printf '{"type":"module"}\n' | put package.json 0644
put executor.js 0644 <"$package/dist/executor.js"
put agent.js 0644 <"$package/dist/agent.js"
sed "s|^node=.*|node='$real'|" "$package/dist/mesos-docker-executor" | put mesos-docker-executor 0755

/usr/bin/env -i "$prefix/mesos-docker-executor" --help >/dev/null \
  || fail "$prefix/mesos-docker-executor --help failed"
echo "installed $prefix/mesos-docker-executor (runs $real, Node $major)"
