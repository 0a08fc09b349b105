import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The service's JSON logger. Nothing secret is ever given to it, and the
 * redaction list below is the second line of defence: request headers are not
 * logged at all (serializers in app.ts), and these paths are censored wherever
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
    destination,
  );
}
