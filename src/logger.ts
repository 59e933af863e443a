import { pino, type Logger } from 'pino';

/** Paths that may hold credentials or message content; pino replaces them before writing. */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'body',
  '*.body',
  'text',
  '*.text',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'cascade' } });
}
