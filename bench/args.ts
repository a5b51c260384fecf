// The bench command line: which benchmarks to run (all by default), --quick, --keep.

export const USAGE = `usage: npm run bench [-- NAME…] [-- --quick] [-- --keep] [-- --seed N]
  NAME      run only these benchmarks (default: all): %NAMES%
  --quick   fewer events and cycles, for a quick look (also BENCH_QUICK=1)
  --keep    keep each benchmark's temp dir (configs and logs)
  --seed N  the seed of chaos's random event stream (default: a fresh one, printed)
  BENCH_LISTENER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the listener of protocol and memory
  BENCH_LISTENER_STARTSECS=N sets startsecs of chaos's listener (default: supervisord's, 1)
`;

export interface BenchArgs {
  readonly names: readonly string[];
  readonly quick: boolean;
  readonly keep: boolean;
  /** --seed N: for benchmarks drawing random events; null when not given. */
  readonly seed: number | null;
}

export type ParsedArgs =
  | { readonly kind: 'run'; readonly args: BenchArgs }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string };

export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv, known: readonly string[]): ParsedArgs {
  let quick = env['BENCH_QUICK'] === '1';
  let keep = false;
  let seed: number | null = null;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const seedArg = /^--seed(?:=(.*))?$/.exec(arg);
    if (seedArg !== null) {
      const raw = seedArg[1] ?? argv[++i] ?? '';
      if (!/^\d{1,10}$/.test(raw) || Number(raw) > 0xffffffff) return { kind: 'error', message: `--seed needs an integer from 0 to 4294967295, got ${JSON.stringify(raw)}` };
      seed = Number(raw);
    } else if (arg === '--quick') quick = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--help' || arg === '-h') return { kind: 'help' };
    else if (known.includes(arg)) {
      if (!names.includes(arg)) names.push(arg);
    } else return { kind: 'error', message: `unknown benchmark or option ${JSON.stringify(arg)} (benchmarks: ${known.join(', ')})` };
  }
  // Always in the listed order, whatever order they were named in.
  return { kind: 'run', args: { names: names.length === 0 ? [...known] : known.filter((k) => names.includes(k)), quick, keep, seed } };
}
