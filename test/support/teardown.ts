// Stops what a demo or benchmark started, once, newest first — including anything still starting when Ctrl-C came.

export class Teardown {
  private readonly steps: { readonly name: string; readonly stop: () => Promise<void> }[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private running: Promise<void> | null = null;
  private finished = false;

  constructor(private readonly report: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  /** Registers a stop step; after run() has finished, runs it at once instead. */
  add(name: string, stop: () => Promise<void>): void {
    if (this.finished) {
      void this.runStep({ name, stop });
      return;
    }
    this.steps.push({ name, stop });
  }

  /**
   * Awaits `starting` and registers stop for what it resolves to. run() waits for owned starts first, so a
   * haproxy or supervisord that finishes starting after Ctrl-C is stopped too, never orphaned.
   */
  own<T>(name: string, starting: Promise<T>, stop: (value: T) => Promise<void>): Promise<T> {
    const owned = starting.then((value) => {
      this.add(name, () => stop(value));
      return value;
    });
    this.pending.add(owned);
    const forget = (): void => void this.pending.delete(owned);
    owned.then(forget, forget);
    return owned;
  }

  /** True once run() has been called: what is still running is being stopped. */
  get started(): boolean {
    return this.running !== null;
  }

  /** Runs every step once, newest first; a failing step is reported and the rest still run. */
  run(): Promise<void> {
    this.running ??= this.runAll();
    return this.running;
  }

  private async runAll(): Promise<void> {
    for (;;) {
      if (this.pending.size > 0) {
        await Promise.allSettled([...this.pending]);
        continue;
      }
      const step = this.steps.pop();
      if (step === undefined) break;
      await this.runStep(step);
    }
    this.finished = true;
  }

  private async runStep(step: { readonly name: string; readonly stop: () => Promise<void> }): Promise<void> {
    try {
      await step.stop();
    } catch (e) {
      this.report(`teardown: ${step.name}: ${(e as Error).message}`);
    }
  }
}
