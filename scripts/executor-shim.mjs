// The text of dist/mesos-docker-executor: the POSIX sh entry that a Mesos agent runs in place of
// the stock executor. The agent merges the task's environment into the executor's, so before Node
// starts the shim keeps only the agent's contract below and a fixed PATH, and runs node by
// absolute path (see docs/shim.md).

export const TRUSTED_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Every environment variable the executor reads (src/config/, src/executor/); nothing else
// reaches Node. test/unit/executor-shim.test.ts keeps this list and the code in step.
export const AGENT_ENVIRONMENT = Object.freeze([
  'MESOS_FRAMEWORK_ID',
  'MESOS_EXECUTOR_ID',
  'MESOS_DIRECTORY',
  'MESOS_SLAVE_ID',
  'MESOS_AGENT_ID',
  'MESOS_SLAVE_PID',
  'MESOS_AGENT_ENDPOINT',
  'MESOS_CHECKPOINT',
  'MESOS_RECOVERY_TIMEOUT',
  'MESOS_SUBSCRIPTION_BACKOFF_MAX',
  'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD',
  'MESOS_EXECUTOR_REGISTRATION_TIMEOUT',
  'MESOS_DOMAIN_SOCKET',
  'MESOS_EXECUTOR_AUTHENTICATION_TOKEN',
  'LIBPROCESS_SSL_ENABLED',
  'LIBPROCESS_SSL_VERIFY_CERT',
]);

// Node's own flags, fixed here (the environment cannot add any: NODE_OPTIONS is dropped). None:
// a V8 flag here would make Node refuse the code cache of its own modules (about 20 ms more
// start-up); the executor sets the V8 flags it wants once running (src/executor/v8-flags.ts), and
// sends Node's warnings to its log (src/executor/node-warnings.ts).
export const NODE_FLAGS = Object.freeze([]);

// Programs the shim runs, by absolute path: they exist at these paths on Debian, Ubuntu and
// RHEL-likes, merged /usr or not. sed must be GNU sed (-z).
export const SHIM_PROGRAMS = Object.freeze({
  env: '/usr/bin/env',
  tr: '/usr/bin/tr',
  sed: '/bin/sed',
  readlink: '/bin/readlink',
});

// glibc's list of variables it drops for setuid programs (sysdeps/generic/unsecvars.h).
const UNSECURE_ENVVARS = [
  'GCONV_PATH', 'GETCONF_DIR', 'GLIBC_TUNABLES', 'HOSTALIASES', 'LD_AUDIT', 'LD_DEBUG', 'LD_DEBUG_OUTPUT',
  'LD_DYNAMIC_WEAK', 'LD_HWCAP_MASK', 'LD_LIBRARY_PATH', 'LD_ORIGIN_PATH', 'LD_PRELOAD', 'LD_PROFILE',
  'LD_SHOW_AUXV', 'LD_USE_LOAD_BIAS', 'LOCALDOMAIN', 'LOCPATH', 'MALLOC_TRACE', 'NIS_PATH', 'NLSPATH',
  'RESOLV_HOST_CONF', 'RES_OPTIONS', 'TMPDIR', 'TZDIR',
];

// Set by the shim before it lists the environment; its absence from the list means the listing failed.
const SENTINEL = 'mesos_docker_executor_shim_listing';

export function shellQuote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function shimScript({ nodePath, executorName = 'executor.js' }) {
  if (!nodePath.startsWith('/') || /[=\n]/.test(nodePath)) {
    throw new Error(`Cannot use Node at '${nodePath}' in the shim: expected an absolute path without '=' or a newline`);
  }
  const { env, tr, sed, readlink } = SHIM_PROGRAMS;
  const keep = ['PATH', ...AGENT_ENVIRONMENT].join('|');
  return `#!/bin/sh -p
# mesos-docker-executor: put this file in (or link it from) the Mesos agent's --launcher_dir in
# place of the stock executor; it takes the same arguments. The agent merges the task's
# environment into the executor's, so only the agent's contract and a fixed PATH reach Node, and
# node runs by absolute path. See docs/shim.md.
# -p: a bash as /bin/sh then ignores SHELLOPTS, BASHOPTS, functions and ENV from the environment.
# Only special builtins and absolute paths are used below, so no function can stand in for them.
IFS=' 	
'
PATH=${TRUSTED_PATH}
export PATH
# What glibc itself ignores for setuid programs (UNSECURE_ENVVARS): too late for this shell if it
# is dynamically linked, but the programs below and node start without them.
unset ${UNSECURE_ENVVARS.join(' ')}
# GNU tools change behaviour on these; a UTF-8 locale would let sed stop at an invalid byte.
unset POSIXLY_CORRECT LANG LANGUAGE
LC_ALL=C
export LC_ALL
set -f

# The Node that runs the executor: the one that built it. To use another, edit this line (an
# absolute path to a root-owned node binary).
node=${shellQuote(nodePath)}

self=$(${readlink} -f -- "$0")
dir=\${self%/*}
if [ ! -x "$node" ] || [ -d "$node" ]; then
  echo "mesos-docker-executor: no Node at $node: edit the node= line of $self" >&2
  exit 1
fi
if [ ! -f "$dir/${executorName}" ]; then
  echo "mesos-docker-executor: no $dir/${executorName} beside $self" >&2
  exit 1
fi

# Every other name in the environment, read NUL-separated so that no value can pass for a name,
# becomes '-u=NAME' (names cannot hold '='); the names are then split on '=' for env.
${SENTINEL}=1
export ${SENTINEL}
drop=$(${sed} -z -n -E -e 's/=.*//' -e '/^$/d' -e '/^(${keep})$/d' -e 's/^/-u=/p' /proc/self/environ | ${tr} '\\0' '=')
case "=$drop=" in
  *=-u=${SENTINEL}=*) ;;
  *)
    echo "mesos-docker-executor: could not list the environment with ${sed} -z and /proc/self/environ (GNU sed is needed)" >&2
    exit 1
    ;;
esac
IFS==
# Names only: no value (the agent's token included) is ever on a command line.
exec ${env} $drop -- "$node" ${NODE_FLAGS.map((flag) => `${flag} `).join('')}"$dir/${executorName}" "$@"
`;
}
