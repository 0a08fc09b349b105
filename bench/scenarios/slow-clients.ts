import type { RecordedRequest } from '../../emulators/oss/oss-emulator';
import type { BenchEmulators } from '../lib/emulators';
import { BUCKET } from '../lib/emulators';
import { runScript, sampleRss, sleep, startService } from '../lib/processes';
import { MIB, summarize, type Summary } from '../lib/stats';

/**
 * 4. Slow clients: CLIENTS readers at RATE on their own 64 MiB objects for a
 * bounded time. Backpressure works when the service's RSS stays flat and the
 * emulator has sent each request little more than its client has received.
 */

export interface SlowFigures {
  clients: number;
  bytesPerSecond: number;
  seconds: number;
  receivedMibPerClient: Summary;
  /** Emulator bytes sent minus client bytes received, per client. */
  readAheadKib: Summary;
  rssMib: { atStart: number; afterQuarter: number; max: number; atEnd: number };
  non200: number;
}

export async function slowClients(emu: BenchEmulators, clients: number, bytesPerSecond: number, seconds: number): Promise<SlowFigures> {
  for (let i = 0; i < clients; i += 1) emu.oss.putGeneratedObject(BUCKET, `slow/${i}`, 64 * MIB, 100 + i);
  const service = await startService(emu.serviceEnv());
  emu.oss.resetCounters();
  const ended = new Map<string, RecordedRequest>();
  const onEnd = (r: RecordedRequest) => {
    if (r.key.startsWith('slow/')) ended.set(r.key, r);
  };
  emu.oss.events.on('request-end', onEnd);
  try {
    const rss = sampleRss(service.pid, 500);
    const out = await runScript(
      'slow-clients.ts',
      [`${service.url}/v1/objects/${BUCKET}/slow/`, String(clients), String(bytesPerSecond), String(seconds)],
      (seconds + 60) * 1000,
    );
    const samples = rss.stop();
    const { received, statuses } = JSON.parse(out) as { received: number[]; statuses: number[] };
    // The service aborts each upstream when its client hangs up; wait (bounded) for the emulator to see every end.
    for (let i = 0; i < 50 && ended.size < clients; i += 1) await sleep(100);
    const readAhead = received.map((got, i) => ((ended.get(`slow/${i}`)?.bytesSent ?? NaN) - got) / 1024);
    return {
      clients,
      bytesPerSecond,
      seconds,
      receivedMibPerClient: summarize(received.map((b) => b / MIB)),
      readAheadKib: summarize(readAhead),
      rssMib: {
        atStart: samples[0] / MIB,
        afterQuarter: samples[Math.floor(samples.length / 4)] / MIB,
        max: Math.max(...samples) / MIB,
        atEnd: samples[samples.length - 1] / MIB,
      },
      non200: statuses.filter((s) => s !== 200).length,
    };
  } finally {
    emu.oss.events.off('request-end', onEnd);
    await service.stop();
  }
}
