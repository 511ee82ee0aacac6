// --oom-score-adj as the stock executor computes it (spec 3.6.3): when a task may use more memory
// than it asked for, the more of the host it asked for, the less likely the kernel's OOM killer
// picks it. Integer arithmetic as upstream; clamped to the range the kernel accepts.
const MB = 1024 * 1024;

export function oomScoreAdj(
  memRequestMb: number | undefined,
  memLimitMb: number | undefined,
  hostMemoryBytes: number | undefined,
): number | undefined {
  if (memRequestMb === undefined || memLimitMb === undefined || hostMemoryBytes === undefined) return undefined;
  const requestBytes = BigInt(Math.floor(memRequestMb)) * BigInt(MB);
  if (Number.isFinite(memLimitMb) && !(requestBytes < BigInt(Math.floor(memLimitMb)) * BigInt(MB))) return undefined;
  if (!(Number.isSafeInteger(hostMemoryBytes) && hostMemoryBytes > 0)) {
    throw new Error(`Failed to calculate OOM score adjustment: the host memory size ${hostMemoryBytes} is not a positive number of bytes`);
  }
  const score = 1000n - (1000n * requestBytes) / BigInt(hostMemoryBytes);
  return Math.min(1000, Math.max(-1000, Number(score)));
}
