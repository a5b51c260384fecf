// Fault injection for integration tests, loaded into the listener with `node --import`: constructing a URL
// whose text contains "/__throw__" throws, as an unexpected bug inside a warm-up would. Nothing else changes.

const RealURL = globalThis.URL;
globalThis.URL = class extends RealURL {
  constructor(input, base) {
    if (String(input).includes('/__throw__')) throw new TypeError(`injected fault: ${String(input)}`);
    super(input, base);
  }
};
