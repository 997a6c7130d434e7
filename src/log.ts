// Structured JSON logs (pino). Secret values must never be passed to a logger: log keys,
// names and error codes only.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export const logLevels: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export function createLogger(level: string = 'info', destination?: NodeJS.WritableStream): Logger {
  if (!logLevels.includes(level as Level)) throw new Error(`invalid --log-level "${level}": expected one of ${logLevels.join(', ')}`);
  return pino(
    {
      level,
      base: { component: 'tessera' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
