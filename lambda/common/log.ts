/**
 * One JSON object per line on stdout. Written straight to the stream rather than through
 * `console`, which the Lambda runtime wraps in its own JSON envelope: CloudWatch only reads
 * embedded metrics from top-level JSON, and a line per event is easy to query in Logs
 * Insights.
 */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Writes an object as it is (embedded metric format documents). */
  raw(document: Record<string, unknown>): void;
}

/** Fields cannot overwrite timestamp, level or message. */
export function createLogger(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  base: Record<string, unknown> = {},
): Logger {
  return {
    log(level, message, fields = {}) {
      write(
        JSON.stringify({ ...base, ...fields, timestamp: new Date().toISOString(), level, message }),
      );
    },
    raw(document) {
      write(JSON.stringify(document));
    },
  };
}

/** Errors as loggable fields: name, message and the cause chain, never the raw object. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error).slice(0, 500) };
  const fields: Record<string, unknown> = { errorName: error.name, error: error.message };
  if (error.cause instanceof Error) fields.cause = `${error.cause.name}: ${error.cause.message}`;
  return fields;
}
