// What every benchmark is given (mode, temp dir, teardown, progress line) and what it gives back (its report).

import type { Teardown } from '../test/support/teardown.js';

export interface BenchContext {
  readonly quick: boolean;
  /** `--seed N`, for benchmarks drawing random events; null: draw a fresh seed (and print it). */
  readonly seed: number | null;
  /** A fresh temp dir of its own, removed afterwards. */
  readonly dir: string;
  /** Everything the benchmark starts is registered here, so Ctrl-C or a failure stops it. */
  readonly teardown: Teardown;
  /** A progress line on stderr (stdout carries only the figures). */
  progress(line: string): void;
}

export interface Benchmark {
  /** What `npm run bench -- NAME` selects it by. */
  readonly name: string;
  readonly title: string;
  /** Runs it and returns the report to print: figures side by side with their baseline. */
  run(ctx: BenchContext): Promise<string>;
}
