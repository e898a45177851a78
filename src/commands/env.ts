/** The configuration of the merchant commands: the same variables as the functions, read the same way. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

/** The file in the stack's work folder (`.linkshop/` for `npm start`) holding its functions' environment. */
export const STACK_ENV_FILE_NAME = "stack.env";
/** Where `npm start` leaves the environment its functions run with, while it runs. */
export const STACK_ENV_FILE = join(".linkshop", STACK_ENV_FILE_NAME);

/**
 * `.env`, then the running local stack's environment (emulated services), then the process environment: the same
 * precedence the functions see under `npm start` and netlify dev.
 */
export function commandEnv(root: string, processEnv: Record<string, string | undefined>) {
  const read = (path: string) => (existsSync(path) ? parseEnv(readFileSync(path, "utf8")) : {});
  return { ...read(join(root, ".env")), ...read(join(root, STACK_ENV_FILE)), ...processEnv };
}

/** `KEY=value` lines for a parseEnv reader; values are quoted so spaces and `#` survive. */
export function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join("\n")
    .concat("\n");
}
