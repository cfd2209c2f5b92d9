/** pino logger factory. Key material and the PSK are never logged: redact paths below. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; name?: string; destination?: number | string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'ikegw',
      level: opts.level ?? process.env['IKEGW_LOG_LEVEL'] ?? 'info',
      redact: { paths: ['psk', '*.psk', 'key', '*.key', 'keys', '*.keys', 'secret', '*.secret'], censor: '[redacted]' },
      base: null,
    },
    pino.destination(opts.destination ?? 1),
  );
}

/** A silent logger for tests and embedding. */
export function nullLogger(): Logger {
  return pino({ level: 'silent' });
}
