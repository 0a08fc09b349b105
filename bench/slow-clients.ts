import http from 'node:http';

/**
 * A load generator for slow readers, in its own process: CLIENTS connections,
 * each reading {base}{i} at BYTES_PER_SECOND by pausing its socket, for
 * SECONDS, then hanging up. Prints one JSON line: the bytes each client got.
 * Usage: slow-clients.ts <base-url> <clients> <bytes-per-second> <seconds>
 */
const [base, clientsArg, rateArg, secondsArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);

const received = new Array<number>(clients).fill(0);
const statuses = new Array<number>(clients).fill(0);
const requests: http.ClientRequest[] = [];
const started = Date.now();

for (let i = 0; i < clients; i += 1) {
  const req = http.get(`${base}${i}`, { agent: false }, (res) => {
    statuses[i] = res.statusCode ?? 0;
    const opened = Date.now();
    res.on('data', (chunk: Buffer) => {
      received[i] += chunk.length;
      const dueAt = opened + (received[i] / rate) * 1000;
      const wait = dueAt - Date.now();
      if (wait > 0) {
        res.pause();
        setTimeout(() => res.resume(), wait);
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  requests.push(req);
}

setTimeout(() => {
  for (const req of requests) req.destroy();
  process.stdout.write(`${JSON.stringify({ received, statuses, seconds: (Date.now() - started) / 1000 })}\n`);
  process.exit(0);
}, seconds * 1000);
