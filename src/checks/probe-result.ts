// What one attempt of a check found. Health checks read it as healthy or not; general checks
// turn it into a CheckStatusInfo.
export type ProbeResult =
  // A COMMAND ran to its end; output is a bounded tail of what it printed.
  | { readonly kind: 'exit'; readonly exitCode: number; readonly output: string }
  // An HTTP request got a response (after redirects).
  | { readonly kind: 'http'; readonly statusCode: number }
  // A TCP connection was attempted; detail says why it failed.
  | { readonly kind: 'tcp'; readonly connected: boolean; readonly detail?: string }
  // The attempt could not give an answer (the probe failed to run, curl failed, ...).
  | { readonly kind: 'error'; readonly message: string }
  // The attempt took longer than timeout_seconds and was killed.
  | { readonly kind: 'timeout'; readonly afterMs: number }
  // Nothing to say: the container is no longer running (its exit is reported on its own).
  | { readonly kind: 'skipped'; readonly message: string };

// Health semantics (spec 3.12): exit 0, a 2xx-3xx response, or an open connection.
export function isHealthy(result: ProbeResult): boolean {
  switch (result.kind) {
    case 'exit':
      return result.exitCode === 0;
    case 'http':
      return result.statusCode >= 200 && result.statusCode < 400;
    case 'tcp':
      return result.connected;
    default:
      return false;
  }
}

export function describeResult(result: ProbeResult): string {
  switch (result.kind) {
    case 'exit': {
      const output = result.output.trim();
      return `exited with status ${result.exitCode}${output ? `: ${output}` : ''}`;
    }
    case 'http':
      return `answered HTTP ${result.statusCode}`;
    case 'tcp':
      return result.connected ? 'connected' : `could not connect${result.detail ? `: ${result.detail}` : ''}`;
    case 'error':
    case 'skipped':
      return result.message;
    case 'timeout':
      return `timed out after ${formatSeconds(result.afterMs)}`;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
