// Paragraphs of a report, word-wrapped for a terminal (demo/report.ts's wrap), one blank line between them.

import { wrap } from '../demo/report.js';

export const WIDTH = 100;

export function paragraphs(...texts: readonly string[]): string {
  return texts.map((t) => wrap(t, WIDTH)).join('\n\n') + '\n';
}
