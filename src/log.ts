/** Plain, line-oriented logs on stderr; quiet under tests unless LOG_LEVEL says otherwise. */
type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const configured = (process.env.LOG_LEVEL as Level | undefined) ?? (process.env.VITEST ? 'error' : 'info');
const threshold = ORDER[configured] ?? ORDER.info;

function write(level: Exclude<Level, 'silent'>, message: string, detail?: unknown): void {
  if (ORDER[level] < threshold) return;
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
  if (detail === undefined) console.error(line);
  else console.error(line, detail);
}

export const log = {
  debug: (message: string, detail?: unknown) => write('debug', message, detail),
  info: (message: string, detail?: unknown) => write('info', message, detail),
  warn: (message: string, detail?: unknown) => write('warn', message, detail),
  error: (message: string, detail?: unknown) => write('error', message, detail),
};
