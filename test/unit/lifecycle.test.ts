import express from 'express';
import request from 'supertest';
import { Lifecycle, type Schedule } from '../../src/lifecycle';
import { problemHandler } from '../../src/http/problem';
import { shutdownGate } from '../../src/http/shutdown-gate';

/** Timers that fire only when the test moves time: no sleeps. */
class ManualSchedule {
  private now = 0;
  private timers: { at: number; fn: () => void }[] = [];

  readonly schedule: Schedule = (ms, fn) => {
    const timer = { at: this.now + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  };

  /** Moves time and fires what fell due, then lets the promises that depend on them run. */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    const due = this.timers.filter((t) => t.at <= this.now);
    this.timers = this.timers.filter((t) => t.at > this.now);
    for (const timer of due) timer.fn();
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function appWith(lifecycle: Lifecycle) {
  const app = express();
  app.use(shutdownGate(lifecycle));
  app.get('/readyz', (_req, res) => {
    res.status(lifecycle.draining ? 503 : 200).end();
  });
  app.get('/work', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(problemHandler);
  return app;
}

describe('Lifecycle: graceful shutdown', () => {
  it('turns draining at once, serves new requests during the grace period, then refuses them with 503 and Connection: close', async () => {
    const timers = new ManualSchedule();
    const lifecycle = new Lifecycle({ graceMs: 5_000, drainMs: 20_000, schedule: timers.schedule });
    const app = appWith(lifecycle);

    void lifecycle.shutdown();
    expect(lifecycle.draining).toBe(true);
    expect((await request(app).get('/readyz')).status).toBe(503);
    const duringGrace = await request(app).get('/work');
    expect(duringGrace.status).toBe(200);
    expect(duringGrace.headers.connection).toBe('close');

    await timers.advance(5_000);
    expect(lifecycle.phase).toBe('refusing');
    const refused = await request(app).get('/work');
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(refused.body).toMatchObject({ code: 'NotReady' });
    expect((await request(app).get('/readyz')).status).toBe(503); // answered by its route, not refused
  });

  it('waits for in-flight requests and drain hooks, then reports drained', async () => {
    const timers = new ManualSchedule();
    const lifecycle = new Lifecycle({ graceMs: 0, drainMs: 20_000, schedule: timers.schedule });
    let finishRequest: () => void = () => undefined;
    const app = express();
    app.use(shutdownGate(lifecycle));
    app.get('/slow', (_req, res) => {
      finishRequest = () => res.end('done');
    });
    let hookRan = false;
    let releaseHook: () => void = () => undefined;
    lifecycle.onDrain(
      () =>
        new Promise<void>((resolve) => {
          hookRan = true;
          releaseHook = resolve;
        }),
      'jobs',
    );

    const slow = request(app)
      .get('/slow')
      .then((res) => res.text);
    await until(() => lifecycle.inFlight === 1);
    let result: unknown;
    void lifecycle.shutdown().then((r) => (result = r));
    await flush();
    expect(hookRan).toBe(true);
    releaseHook();
    await flush();
    expect(result).toBeUndefined(); // the request is still in flight

    finishRequest();
    expect(await slow).toBe('done');
    await until(() => result !== undefined);
    expect(result).toEqual({ drained: true, inFlight: 0 });
  });

  it('gives up when the drain time runs out, aborting the hooks deadline', async () => {
    const timers = new ManualSchedule();
    const lifecycle = new Lifecycle({ graceMs: 1_000, drainMs: 10_000, schedule: timers.schedule });
    let deadline: AbortSignal | undefined;
    lifecycle.onDrain((signal) => {
      deadline = signal;
      return new Promise(() => undefined); // never finishes
    });

    const done = lifecycle.shutdown();
    expect(lifecycle.shutdown()).toBe(done); // a second call shares the first
    await timers.advance(1_000);
    expect(deadline?.aborted).toBe(false);
    await timers.advance(9_000);

    expect(await done).toEqual({ drained: false, inFlight: 0 });
    expect(deadline?.aborted).toBe(true);
  });

  it('logs a failing drain hook and still drains the rest', async () => {
    const timers = new ManualSchedule();
    const lifecycle = new Lifecycle({ graceMs: 0, drainMs: 1_000, schedule: timers.schedule });
    let otherRan = false;
    lifecycle.onDrain(() => Promise.reject(new Error('boom')), 'broken');
    lifecycle.onDrain(async () => {
      otherRan = true;
    });

    expect(await lifecycle.shutdown()).toEqual({ drained: true, inFlight: 0 });
    expect(otherRan).toBe(true);
  });
});

/** Polls a condition across event-loop turns (bounded), for state that changes on I/O. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition not reached');
}
