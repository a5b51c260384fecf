// Once per integration run: says which haproxy the tests run with (the first on PATH), and refuses to run
// with another version than $SUPERVISOR_HAPROXY_EXPECT_VERSION when it is set (the per-version CI runs).

import { haproxyVersion, requireBinary } from './binaries.js';

export default function setup(): void {
  let bin: string;
  try {
    bin = requireBinary('haproxy');
  } catch (err) {
    // Each test that needs haproxy fails with what to install; the tests without it still run.
    console.log(`haproxy: ${(err as Error).message}`);
    return;
  }
  const version = haproxyVersion(bin);
  console.log(`haproxy: ${bin}, HAProxy ${version}`);
  const expected = process.env['SUPERVISOR_HAPROXY_EXPECT_VERSION'];
  if (expected !== undefined && expected !== '' && !version.startsWith(`${expected}.`)) {
    throw new Error(`$SUPERVISOR_HAPROXY_EXPECT_VERSION is ${expected}, but the first haproxy on PATH, ${bin}, is ${version}`);
  }
}
