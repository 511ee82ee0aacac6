// The private test registry that scripts/setup-registry.sh starts on a loopback port it chooses
// (user testuser, password testpassword), at the address it records.
import { readFileSync } from 'node:fs';

// TEST_REGISTRY_ADDRESS_FILE names another, as it does for the script.
export const REGISTRY_ADDRESS_FILE = process.env.TEST_REGISTRY_ADDRESS_FILE ?? '/run/mesos-executor-test-registry/address';

// host:port, e.g. 127.0.0.1:5000.
export const REGISTRY = registryAddress();

// REGISTRY as a regular expression source, for asserting on messages that quote it.
export const REGISTRY_PATTERN = REGISTRY.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function registryAddress(): string {
  let text: string;
  try {
    text = readFileSync(REGISTRY_ADDRESS_FILE, 'utf8').trim();
  } catch (error) {
    throw new Error(`No test registry is recorded in ${REGISTRY_ADDRESS_FILE} (${(error as Error).message}): run scripts/setup-registry.sh`);
  }
  if (!/^127\.0\.0\.1:[0-9]{1,5}$/.test(text)) {
    throw new Error(`${REGISTRY_ADDRESS_FILE} holds '${text}': expected 127.0.0.1:<port>; run scripts/setup-registry.sh`);
  }
  return text;
}
