// A logger that keeps its lines, for unit tests.

import { createLogger, type Logger } from '../../src/log.js';

export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger((l) => lines.push(l), 'debug', () => new Date(0));
  return Object.assign(logger, { lines });
}
