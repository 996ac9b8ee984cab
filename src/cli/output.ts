import { AppError } from '../base/errors.js';
import { redact } from '../base/redact.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Prints a usage problem the way commander does and sets exit code 2. */
export function usageError(message: string, usage: string): void {
  process.stderr.write(`error: ${message}\nusage: ${usage}\n`);
  process.exitCode = EXIT_USAGE;
}

/** Prints a failure without a stack trace (unless OMOI_DEBUG is set) and sets exit code 1. */
export function reportFailure(error: unknown): void {
  // A key or token in a message (an API error that quotes a header) is never printed.
  const message = redact(error instanceof Error ? error.message : String(error));
  const code = error instanceof AppError ? `${error.code}: ` : '';
  process.stderr.write(`omoi: ${code}${message}\n`);
  if (process.env.OMOI_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  process.exitCode = EXIT_FAILURE;
}

/** Writes one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
