/** The configuration of the merchant commands: the same variables as the functions, read the same way. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import type { Io } from "./kit.ts";
import { ConfigError } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import { readStackRecord, type StackRecord } from "./stack-record.ts";

type Env = Record<string, string | undefined>;

/** The variables, the running local stack they came from (if any), and where they were read, lowest first. */
export interface CommandEnv {
  env: Env;
  stack: StackRecord | undefined;
  sources: string[];
}

/**
 * `.env`, then what a running `npm start` gives its functions (emulated services), then the process environment,
 * which wins: the precedence the functions see under `npm start` and netlify dev. An empty variable in the
 * environment counts as unset, so `NAME= npm run …` does not hide what `.env` or the stack provide.
 */
export async function commandEnv(
  root: string,
  processEnv: Env,
  workDir = join(root, ".linkshop"),
): Promise<CommandEnv> {
  const dotenvPath = join(root, ".env");
  const dotenv = existsSync(dotenvPath) ? parseEnv(readFileSync(dotenvPath, "utf8")) : {};
  const stack = await readStackRecord(workDir);
  const sources = [
    ...(existsSync(dotenvPath) ? [".env"] : []),
    ...(stack ? [`the running npm start (${stack.shopUrl})`] : []),
    "the environment",
  ];
  const given = Object.fromEntries(Object.entries(processEnv).filter(([, value]) => value?.trim()));
  return { env: { ...dotenv, ...stack?.functionEnv, ...given }, stack, sources };
}

/**
 * Builds a command's services with a logger that writes JSON lines to stderr (stdout stays for the command's own
 * output, e.g. --json). A configuration problem is printed, naming every variable, and gives undefined.
 */
export function commandServices<T>(build: (log: Logger) => T, io: Io): T | undefined {
  try {
    return build((event, fields) => io.err(JSON.stringify({ event, ...fields })));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return undefined;
  }
}
