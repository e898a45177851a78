/**
 * What the thank-you page's endpoint reads and remembers in Upstash Redis: an order's ledger record together with
 * the answer it remembered from Stripe, in one command.
 */
import type { Redis } from "@upstash/redis";
import { StoreUnavailableError } from "../lib/errors.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import { KEY_PREFIX } from "./upstash.ts";

/** An order's record and remembered answer, read together. */
export interface StatusLookup {
  record: LedgerRecord | undefined;
  /** The answer remembered with `remember`, as it was stored; undefined when none (or it expired). */
  remembered: string | undefined;
}

/** Reads and remembers status answers. Throws StoreUnavailableError on any store failure. */
export interface StatusStore {
  /** The order's ledger record and its remembered answer: one store command. */
  look(key: string): Promise<StatusLookup>;
  /** Remembers an answer for `ttlSeconds`: one store command. */
  remember(key: string, answer: string, ttlSeconds: number): Promise<void>;
}

/**
 * KEYS[1] = the order's ledger hash (`<prefix>ledger:<key>`, as src/adapters/upstash.ts writes it), KEYS[2] = the
 * remembered answer. Returns {record or false, answer or false}. Read-only.
 */
const LOOK = `return {redis.call("HGET", KEYS[1], "record"), redis.call("GET", KEYS[2])}`;

/** The status store: the ledger's hashes, and `<prefix>status:<key>` strings with a TTL. */
export function upstashStatusStore(redis: Redis, prefix = KEY_PREFIX): StatusStore {
  return {
    async look(key) {
      const [record, remembered] = await guard(() =>
        redis.eval<string[], [string | null, string | null]>(
          LOOK,
          [`${prefix}ledger:${key}`, `${prefix}status:${key}`],
          [],
        ),
      );
      return {
        record: record ? (JSON.parse(record) as LedgerRecord) : undefined,
        remembered: remembered ?? undefined,
      };
    },
    async remember(key, answer, ttlSeconds) {
      await guard(() => redis.set(`${prefix}status:${key}`, answer, { ex: ttlSeconds }));
    },
  };
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StoreUnavailableError("Redis request failed", { cause: error });
  }
}
