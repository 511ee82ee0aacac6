// Types of executor-shim.mjs, for the tests that import it.
export declare const TRUSTED_PATH: string;
export declare const AGENT_ENVIRONMENT: readonly string[];
export declare const NODE_FLAGS: readonly string[];
export declare const SHIM_PROGRAMS: Readonly<{ env: string; tr: string; sed: string; readlink: string }>;
export declare function shellQuote(text: string): string;
export declare function shimScript(options: { nodePath: string; executorName?: string }): string;
