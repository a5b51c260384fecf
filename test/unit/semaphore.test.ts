import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/semaphore.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('grants up to the limit at once and queues the rest', async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    await sem.acquire();
    let third = false;
    const c = sem.acquire().then((release) => {
      third = true;
      return release;
    });
    await tick();
    expect([sem.active, sem.waiting, third]).toEqual([2, 1, false]);
    a();
    (await c)();
    expect(third).toBe(true);
    expect([sem.active, sem.waiting]).toEqual([1, 0]);
  });

  it('serves waiters in arrival order', async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3, 4].map((n) =>
      sem.acquire().then((release) => {
        order.push(n);
        release();
      }),
    );
    first();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3, 4]);
    expect(sem.active).toBe(0);
  });

  it('ignores a second release of the same slot', async () => {
    const sem = new Semaphore(1);
    const release = await sem.acquire();
    release();
    release();
    expect(sem.active).toBe(0);
    await sem.acquire();
    expect(sem.active).toBe(1);
    const late = sem.acquire();
    release(); // stale: must not free the slot now held by someone else
    await tick();
    expect(sem.waiting).toBe(1);
    void late;
  });

  it('use() frees the slot whether fn resolves or throws', async () => {
    const sem = new Semaphore(1);
    await expect(sem.use(async () => 7)).resolves.toBe(7);
    await expect(sem.use(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sem.active).toBe(0);
  });

  it('never runs more than the limit under load', async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_v, i) =>
        sem.use(async () => {
          running += 1;
          peak = Math.max(peak, running);
          for (let k = 0; k < (i % 4) + 1; k += 1) await tick();
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses the limit %s', (limit) => {
    expect(() => new Semaphore(limit)).toThrow(RangeError);
  });

  it('a warm-up cancelled while waiting gives up its place without taking a slot', async () => {
    const slots = new Semaphore(1);
    const first = await slots.acquire(new AbortController().signal);
    const ac = new AbortController();
    const waiting = slots.acquire(ac.signal);
    const third = slots.acquire(new AbortController().signal);
    ac.abort(new Error('superseded by STOPPING'));
    await expect(waiting).rejects.toThrow('superseded by STOPPING');
    first();
    const release = await third;
    expect(slots.full).toBe(true);
    release();
    expect(slots.full).toBe(false);
  });
});
