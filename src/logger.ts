import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The service's JSON logger. Nothing secret is ever given to it, and the
 * redaction list below is the second line of defence: request headers are not
 * logged at all (src/observability/request-log.ts), and these paths are censored wherever
 * they appear.
 */
export const REDACTED_PATHS = [
  'accessKeyId',
  'accessKeySecret',
  'securityToken',
  '*.accessKeyId',
  '*.accessKeySecret',
  '*.securityToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'oss-download-service' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? stdoutDestination(),
  );
}

/**
 * Synchronous writes to stdout. pino's default buffers and flushes on exit,
 * and its flush (sonic-boom 4 flushSync) retries a write that failed with
 * EPIPE forever: a service whose log reader had gone (a supervisor that exited
 * first) hung in process.exit instead of stopping. Written at once, every line
 * is out before the process exits, and a lost stdout is an error event, not a hang.
 */
function stdoutDestination(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: true });
  stream.on('error', () => undefined); // nowhere left to report it
  return stream;
}
