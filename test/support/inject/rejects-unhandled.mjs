// Fault injection for integration tests, loaded into the listener with `node --import`: once the listener has
// set itself up, a promise rejects with nobody to catch it, as a forgotten `.catch` would. Nothing else changes.

process.on('newListener', (event) => {
  // The listener installs its last-resort handler as it starts: reject just after that.
  if (event === 'unhandledRejection') setImmediate(() => void Promise.reject(new Error('injected unhandled rejection')));
});
