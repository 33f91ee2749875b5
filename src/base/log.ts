import { AsyncLocalStorage } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import { inspect } from 'node:util';
import pino from 'pino';

/**
 * Logs on stderr (stdout stays for what scripts print). JSON lines with pino in production or with
 * LOG_FORMAT=json, for shipping; plain lines otherwise, for a person at a terminal. Fields bound with
 * `withLogFields` (a request id) go on every line logged within that call, however deep and however
 * asynchronous.
 */
type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const PLAIN_SKIP = new Set(['level', 'time', 'msg', 'err']);

/** One JSON line from pino as a readable line: time, level, message, fields, then the stack if any. */
function plainLine(line: string): string {
  const entry = JSON.parse(line) as Record<string, unknown>;
  const name = pino.levels.labels[Number(entry.level)] ?? 'info';
  const fields = Object.entries(entry)
    .filter(([key]) => !PLAIN_SKIP.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const err = entry.err as { stack?: string; message?: string } | undefined;
  const time = new Date(Number(entry.time)).toISOString();
  const head = `${time} ${name.toUpperCase().padEnd(5)} ${String(entry.msg ?? '')}`;
  return [head, ...fields].join(' ') + (err ? `\n${err.stack ?? err.message}` : '');
}

// Synchronous writes: a line logged just before process.exit is not lost.
function createLogger(level: Level, json: boolean): pino.Logger {
  const destination = json
    ? pino.destination({ fd: 2, sync: true })
    : { write: (line: string) => void writeSync(2, `${plainLine(line)}\n`) };
  return pino(
    {
      level,
      base: undefined,
      timestamp: json ? pino.stdTimeFunctions.isoTime : pino.stdTimeFunctions.epochTime,
      formatters: { level: (label) => ({ level: json ? label : pino.levels.values[label] }) },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

// Until the settings are applied (LOG_LEVEL, LOG_FORMAT: configureLog), plain lines from info up, and only
// errors under a test runner.
let logger = createLogger(process.env.VITEST ? 'error' : 'info', false);

/** Applies the log settings; the edge calls it once they are read. */
export function configureLog(settings: { level: Level; format: 'json' | 'pretty' }): void {
  logger = createLogger(settings.level, settings.format === 'json');
}

const scope = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs fn with fields (a request id) added to every line it logs, including after awaits. */
export function withLogFields<T>(fields: Record<string, unknown>, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...fields }, fn);
}

/** An Error keeps its stack; a plain object gives its fields; anything else is shown as it is. */
function fieldsOf(detail: unknown): Record<string, unknown> {
  if (detail === undefined) return {};
  if (detail instanceof Error) return { err: detail };
  if (detail !== null && typeof detail === 'object' && Object.getPrototypeOf(detail) === Object.prototype) {
    return detail as Record<string, unknown>;
  }
  return { detail: typeof detail === 'string' ? detail : inspect(detail, { depth: 3 }) };
}

function write(at: Exclude<Level, 'silent'>, message: string, detail?: unknown): void {
  if (!logger.isLevelEnabled(at)) return;
  logger[at]({ ...scope.getStore(), ...fieldsOf(detail) }, message);
}

export const log = {
  debug: (message: string, detail?: unknown) => write('debug', message, detail),
  info: (message: string, detail?: unknown) => write('info', message, detail),
  warn: (message: string, detail?: unknown) => write('warn', message, detail),
  error: (message: string, detail?: unknown) => write('error', message, detail),
};
