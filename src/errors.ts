/**
 * A user's mistake (bad config, missing file, malformed record). The CLI prints `format()` and exits 2
 * without a stack trace; anything else that escapes is a runtime failure (exit 3).
 */
export interface Where {
  file?: string;
  line?: number;
  /** Record number (1-based) when line numbers do not apply, e.g. a CSV row. */
  record?: number;
  field?: string;
}

export class InputError extends Error {
  /** The CLI's exit code for it (library callers read it instead of matching classes). */
  readonly exitCode = 2;
  readonly where: Where;
  constructor(message: string, where: Where = {}) {
    super(message);
    this.name = 'InputError';
    this.where = where;
  }

  /** `file:line: field "x": message` — the shape compilers use, so editors can jump to it. */
  format(): string {
    const { file, line, record, field } = this.where;
    let loc = file ?? '';
    if (file && line !== undefined) loc += `:${line}`;
    else if (record !== undefined) loc += `${loc ? ' ' : ''}record ${record}`;
    const head = [loc, field !== undefined ? `field "${field}"` : ''].filter(Boolean).join(': ');
    return head ? `${head}: ${this.message}` : this.message;
  }
}

export const isInputError = (e: unknown): e is InputError => e instanceof InputError;

/** A served model can no longer be reached (retries exhausted, connection lost): exit 3, resumable. */
export class ServedUnavailableError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(`${message}; finished requests are cached: run again to resume`);
    this.name = 'ServedUnavailableError';
  }
}
export const isServedUnavailable = (e: unknown): e is ServedUnavailableError => e instanceof ServedUnavailableError;

/**
 * An audit stopped by its AbortSignal (library `audit({ signal })`). Every batch finished before the
 * abort is in the cache, so the same audit run again resumes. `name` is 'AbortError', as for fetch.
 */
export class AuditAbortedError extends Error {
  readonly exitCode = 3;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
export const isAuditAborted = (e: unknown): e is AuditAbortedError => e instanceof AuditAbortedError;

/** The exit code the CLI gives an error that escaped a command: its own `exitCode`, else 3 (runtime failure). */
export function exitCodeOf(e: unknown): number {
  const code = (e as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : 3;
}
