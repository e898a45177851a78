/**
 * `.linkshop/stack.json`: what a running `npm start` gives its functions, so every command (config.ts) runs with,
 * and `npm run doctor` checks, the same configuration. Written when the stack is up, removed when it stops; local
 * secrets only (generated per run).
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";

/** File name inside the stack's work folder (`.linkshop` by default). */
export const STACK_RECORD_FILE = "stack.json";

const recordSchema = v.object({
  /** Process id of `npm start`; a record whose process is gone is stale. */
  pid: v.pipe(v.number(), v.integer()),
  shopUrl: v.string(),
  /** Payment Link file the local site was built from (absent when Stripe is real). */
  linksFile: v.optional(v.string()),
  /** Variables the stack gives the functions on top of `.env`. */
  functionEnv: v.record(v.string(), v.string()),
});

/** A running local stack as the commands see it. */
export type StackRecord = v.InferOutput<typeof recordSchema>;

/** Writes the record, readable by its owner only (it holds the session's local secrets). */
export async function writeStackRecord(workDir: string, record: StackRecord): Promise<void> {
  await writeFile(join(workDir, STACK_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the record; nothing happens when it is already gone. */
export async function removeStackRecord(workDir: string): Promise<void> {
  await rm(join(workDir, STACK_RECORD_FILE), { force: true });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The record of a stack that is still running, or undefined (no file, unreadable, or its process ended). */
export async function readStackRecord(workDir: string): Promise<StackRecord | undefined> {
  const source = await readFile(join(workDir, STACK_RECORD_FILE), "utf8").catch(() => undefined);
  if (source === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(recordSchema, json);
  if (!parsed.success || !alive(parsed.output.pid)) return undefined;
  return parsed.output;
}
