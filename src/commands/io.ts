/** How every command talks and fails: where lines go, how a person is asked, the exit codes and the one error text. */
import { createInterface } from "node:readline/promises";
import { ConfigError } from "../config.ts";

/**
 * The exit-code contract of every command. 2 means nothing was attempted: fix the command line or the configuration
 * (a live-mode action run without a terminal and without its flag counts as wrong usage).
 */
export const EXIT = {
  /** Done (and --help). */
  ok: 0,
  /** A check or an action failed, or the person asked answered no. */
  failed: 1,
  /** Wrong usage or configuration, or a confirmation that could not be asked for. */
  usage: 2,
} as const;

/** One of the exit codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Where a command writes and whom it may ask; tests pass collectors and scripted answers, the scripts the console. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when a person can answer a question (stdin and stderr are terminals). Absent means no. */
  interactive?: boolean;
  /** Asks a yes/no question; resolves true only for yes. Called only when `interactive`. */
  confirm?(question: string): Promise<boolean>;
}

/** A failure the user can act on; its message is printed without a stack trace. */
export class CliError extends Error {
  override readonly name: string = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
  }
}

/** Wrong usage: printed with the command's usage, exit 2. */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The exit code for anything a command throws: its own, 2 for configuration, else 1. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  return error instanceof ConfigError ? EXIT.usage : EXIT.failed;
}

/**
 * Turns any thrown value into a message safe to print: no stack trace, no request body. Our own errors and
 * ConfigError never quote a secret or a customer's address; Stripe's say which request failed.
 */
export function describeError(error: unknown): string {
  if (
    error instanceof Error &&
    "type" in error &&
    typeof error.type === "string" &&
    error.type.startsWith("Stripe")
  ) {
    const status = "statusCode" in error && error.statusCode ? ` (HTTP ${String(error.statusCode)})` : "";
    return `Stripe refused the request${status}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A yes/no prompt on `input` and `output` (the console: stdin, and stderr so stdout stays the command's output).
 * Only y or yes agrees; Enter, anything else, Ctrl-D or a closed input is a no.
 */
export function terminalPrompt(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): (question: string) => Promise<boolean> {
  return async (question) => {
    const terminal = createInterface({ input, output });
    const closed = new Promise<string>((resolve) => terminal.once("close", () => resolve("")));
    try {
      const answer = await Promise.race([terminal.question(`${question} [y/N] `), closed]);
      return /^\s*y(es)?\s*$/i.test(answer);
    } finally {
      terminal.close();
    }
  };
}

/** The console, asking questions when both stdin and stderr are terminals. */
export function consoleIo(): Io {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    confirm: terminalPrompt(process.stdin, process.stderr),
  };
}
