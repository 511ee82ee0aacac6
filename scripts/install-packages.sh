# Sourced by the set-up scripts: installs the Debian packages given, as root, or says which are
# missing and exits. Expects a `log` function.
install_packages() {
  [ "$#" -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing $* and not root: install them, or run this script as root"
    exit 1
  fi
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
