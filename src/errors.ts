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
  constructor(message: string) {
    super(`${message}; finished requests are cached: run again to resume`);
    this.name = 'ServedUnavailableError';
  }
}
export const isServedUnavailable = (e: unknown): e is ServedUnavailableError => e instanceof ServedUnavailableError;
