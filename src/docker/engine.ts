// Deprecated: the lifecycle's name for the Docker runtime until it moves to the verbs of
// ContainerRuntime (container-runtime.ts); new code imports docker-runtime.ts.
export { DockerRuntime as DockerEngine, DEFAULT_CALL_TIMEOUT_MS, type CallOptions } from './docker-runtime.js';
export type { WholeResponse as EngineResponse } from './docker-request.js';
export type { WaitResult } from './container-runtime.js';
