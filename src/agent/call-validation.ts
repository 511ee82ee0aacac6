// The checks the Mesos agent applies to an executor Call before anything else
// (validateExecutorCall, spec 1.5), so the local agent refuses what a real one would.
import { mesos } from '../proto/generated/mesos.js';

const CallType = mesos.v1.executor.Call.Type;
const CheckType = mesos.v1.CheckInfo.Type;

// Set on the object itself: decoded messages read unset fields as their proto2 defaults.
function has(message: object | null | undefined, field: string): boolean {
  return message != null && Object.hasOwn(message, field) && (message as Record<string, unknown>)[field] != null;
}

export function validateExecutorCall(call: mesos.v1.executor.ICall): string | undefined {
  if (!has(call, 'type')) return "Expecting 'type' to be present";
  if (!call.executor_id?.value) return "Expecting 'executor_id' to be present";
  if (!call.framework_id?.value) return "Expecting 'framework_id' to be present";
  switch (call.type) {
    case CallType.SUBSCRIBE:
      return call.subscribe ? undefined : "Expecting 'subscribe' to be present";
    case CallType.UPDATE: {
      const status = call.update?.status;
      if (!call.update || !status) return "Expecting 'update' to be present";
      if (!has(status, 'uuid')) return "Expecting 'uuid' to be present";
      if (!isValidUuid(status.uuid!)) return 'Not a valid UUID';
      if (status.executor_id?.value != null && status.executor_id.value !== call.executor_id.value) {
        return `ExecutorID in Call: ${call.executor_id.value} does not match ExecutorID in TaskStatus: ${status.executor_id.value}`;
      }
      if (status.source !== mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR) {
        return `Received Call from executor ${call.executor_id.value} of framework ${call.framework_id.value} with invalid source, expecting 'SOURCE_EXECUTOR'`;
      }
      if (status.state === mesos.v1.TaskState.TASK_STAGING) return `Received TASK_STAGING from executor ${call.executor_id.value} which is not allowed`;
      return has(status, 'check_status') ? validateCheckStatus(status.check_status!) : undefined;
    }
    case CallType.MESSAGE:
      return call.message ? undefined : "Expecting 'message' to be present";
    default:
      return undefined;
  }
}

// 16 raw bytes with a known RFC 4122 version (1-5) in the high nibble of byte 6.
export function isValidUuid(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  const version = bytes[6]! >> 4;
  return version >= 1 && version <= 5;
}

// validateCheckStatusInfo: the type is set and its matching result is present.
function validateCheckStatus(checkStatus: mesos.v1.ICheckStatusInfo): string | undefined {
  if (!has(checkStatus, 'type')) return "CheckStatusInfo must specify 'type'";
  switch (checkStatus.type) {
    case CheckType.COMMAND:
      return has(checkStatus, 'command') ? undefined : "Expecting 'command' to be set for COMMAND check's status";
    case CheckType.HTTP:
      return has(checkStatus, 'http') ? undefined : "Expecting 'http' to be set for HTTP check's status";
    case CheckType.TCP:
      return has(checkStatus, 'tcp') ? undefined : "Expecting 'tcp' to be set for TCP check's status";
    default:
      return "'UNKNOWN' is not a valid check's status type";
  }
}
