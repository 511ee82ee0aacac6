// The CheckStatusInfo of a general check (spec 3.13, as the command executor reports it): empty,
// with the check's type and an empty sub-message, until a result; the exit code, HTTP status or
// TCP outcome after one; empty again when an attempt errs or times out. Pure.
import { mesos } from '../proto/generated/mesos.js';
import type { CheckType } from './check-definition.js';
import type { ProbeResult } from './probe-result.js';

export type CheckStatus = mesos.v1.ICheckStatusInfo;

export function emptyCheckStatus(type: CheckType): CheckStatus {
  const number = mesos.v1.CheckInfo.Type[type];
  switch (type) {
    case 'COMMAND':
      return { type: number, command: {} };
    case 'HTTP':
      return { type: number, http: {} };
    case 'TCP':
      return { type: number, tcp: {} };
  }
}

// The status after one attempt; undefined when the attempt says nothing (skipped).
export function checkStatusAfter(type: CheckType, result: ProbeResult): CheckStatus | undefined {
  const number = mesos.v1.CheckInfo.Type[type];
  switch (result.kind) {
    case 'skipped':
      return undefined;
    case 'exit':
      return type === 'COMMAND' ? { type: number, command: { exit_code: result.exitCode } } : emptyCheckStatus(type);
    case 'http':
      return type === 'HTTP' ? { type: number, http: { status_code: result.statusCode } } : emptyCheckStatus(type);
    case 'tcp':
      return type === 'TCP' ? { type: number, tcp: { succeeded: result.connected } } : emptyCheckStatus(type);
    case 'error':
    case 'timeout':
      return emptyCheckStatus(type);
  }
}

export function sameCheckStatus(a: CheckStatus, b: CheckStatus): boolean {
  return a.type === b.type
    && a.command?.exit_code === b.command?.exit_code
    && a.http?.status_code === b.http?.status_code
    && a.tcp?.succeeded === b.tcp?.succeeded
    && (a.command == null) === (b.command == null)
    && (a.http == null) === (b.http == null)
    && (a.tcp == null) === (b.tcp == null);
}
