import http from 'node:http';

/**
 * The benchmark baseline: what a proxy costs with no framework, no signing and
 * no checks. GET /v1/objects/{bucket}/{key} is piped from the emulator's
 * public-read bucket over a keep-alive agent, status and headers as they come.
 * Everything the service does beyond this (Express, helmet, logging, metrics,
 * credential reads, signing, validation) shows up as the ratio to it.
 */
const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:9000');
const region = process.env.REGION ?? 'cn-hangzhou';
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.end('ok');
    return;
  }
  const match = /^\/v1\/objects\/([^/]+)\/(.+)$/.exec(req.url ?? '');
  if (!match) {
    res.statusCode = 404;
    res.end();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { host: `${match[1]}.oss-${region}.aliyuncs.com` };
  if (req.headers.range) headers.range = req.headers.range;
  const up = http.request({ host: upstream.hostname, port: upstream.port, path: `/${match[2]}`, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  res.on('close', () => up.destroy());
  up.end();
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
