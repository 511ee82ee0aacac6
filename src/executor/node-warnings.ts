// Node prints its warnings (deprecations, experimental features) as bare lines on stderr, which
// the sandbox shares with the container's output: an executor resuming that output would count
// them as the container's bytes. They go to the executor's log instead, as its own lines. No
// --no-warnings on node's command line: the shim passes Node no flag (docs/shim.md).
export function logNodeWarnings(warn: (line: string) => void): void {
  // Node's own printer is a 'warning' listener installed at start-up.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => warn(`Node: ${warning.name}: ${warning.message}`));
}
