/** Claims, the order ledger and small state over Upstash Redis (REST), with compare-and-set in Lua. */
import { Redis } from "@upstash/redis";
import { StoreUnavailableError } from "../lib/errors.ts";
import type { Claim, ClaimStore, DownloadCounter, Ledger, ValueStore } from "../fulfilment/ports.ts";
import { type LedgerRecord, TRANSITIONS } from "../order/ledger.ts";

/** A Redis REST client tuned for a webhook: no JSON guessing on values, and a short retry budget. */
export function createRedisClient(url: string, token: string): Redis {
  return new Redis({
    url,
    token,
    automaticDeserialization: false,
    // Two quick retries (~150 ms in all) instead of the SDK's ~4 s: Stripe's retry is the long loop.
    retry: { retries: 2, backoff: (attempt) => 50 * 2 ** attempt },
  });
}

/** Every key this project writes starts with this, so a shared database stays readable. */
export const KEY_PREFIX = "linkshop:";

/** Compare-and-delete of a claim. KEYS[1] = claim key, ARGV[1] = our token; returns 1 when deleted. */
export const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/** Claims stored as a random token with a TTL; `prefix` keeps tests apart in a shared database. */
export function upstashClaimStore(redis: Redis, prefix = KEY_PREFIX): ClaimStore {
  return {
    async claim(key, ttlSeconds): Promise<Claim> {
      const token = crypto.randomUUID();
      const taken = await guard(() => redis.set(prefix + key, token, { nx: true, ex: ttlSeconds }));
      if (taken === "OK") return { state: "claimed", token };
      // The client retries a SET whose answer was lost; then the key holds our own token and the claim is ours.
      const current = await guard(() => redis.get<string>(prefix + key));
      return current === token ? { state: "claimed", token } : { state: "busy" };
    },
    async release(key, token) {
      await guard(() => redis.eval<string[], number>(RELEASE_SCRIPT, [prefix + key], [token]));
    },
  };
}

/**
 * The ledger's compare-and-set, with the allowed transitions of src/order/ledger.ts written into it as a Lua table.
 * One hash per order (fields `state` and `record`, no TTL), one ZSET index scored by creation time (ms), and one
 * hash from PaymentIntent to order. KEYS[1] = order hash, KEYS[2] = index, KEYS[3] = payment index; ARGV = expected
 * state ("absent" for none), new state, record JSON, creation time, index member, PaymentIntent ("" for none).
 * Returns 1 when written.
 */
export function ledgerPutScript(transitions: Readonly<Record<string, readonly string[]>>): string {
  const table = Object.entries(transitions)
    .map(
      ([from, to]) =>
        `[${JSON.stringify(from)}]={${to.map((state) => `[${JSON.stringify(state)}]=true`).join(",")}}`,
    )
    .join(",");
  return `
local allowed = {${table}}
local current = redis.call("HGET", KEYS[1], "state") or "absent"
if current ~= ARGV[1] then return 0 end
if not (allowed[current] and allowed[current][ARGV[2]]) then return 0 end
redis.call("HSET", KEYS[1], "state", ARGV[2], "record", ARGV[3])
redis.call("ZADD", KEYS[2], "NX", ARGV[4], ARGV[5])
if ARGV[6] ~= "" then redis.call("HSET", KEYS[3], ARGV[6], ARGV[5]) end
return 1`;
}

const PUT = ledgerPutScript(TRANSITIONS);

/** The ledger: `<prefix>ledger:<sessionKey>` hashes and the `<prefix>ledger:index` ZSET. */
export function upstashLedger(redis: Redis, prefix = KEY_PREFIX): Ledger {
  const recordKey = (key: string) => `${prefix}ledger:${key}`;
  const index = `${prefix}ledger:index`;
  const payments = `${prefix}ledger:by-payment`;
  return {
    async get(key) {
      const raw = await guard(() => redis.hget<string>(recordKey(key), "record"));
      return raw ? parseRecord(raw) : undefined;
    },
    async put(key, expected, record) {
      const written = await guard(() =>
        redis.eval<string[], number>(
          PUT,
          [recordKey(key), index, payments],
          [
            expected,
            record.state,
            JSON.stringify(record),
            String(record.createdAt),
            key,
            record.paymentIntent ?? "",
          ],
        ),
      );
      return written === 1;
    },
    async findByPaymentIntent(paymentIntent) {
      return (await guard(() => redis.hget<string>(payments, paymentIntent))) ?? undefined;
    },
    async list({ limit, before }) {
      const max = before ?? "+inf";
      const members = await guard(() =>
        redis.zrange<string[]>(index, max, "-inf", { byScore: true, rev: true, offset: 0, count: limit }),
      );
      if (members.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const member of members) pipeline.hget(recordKey(member), "record");
      const raws = await guard(() => pipeline.exec<(string | null)[]>());
      return members.flatMap((key, i) => {
        const raw = raws[i];
        return raw ? [{ key, record: parseRecord(raw) }] : [];
      });
    },
  };
}

/** ValueStore over Redis, keys under `prefix`. */
export function upstashValues(redis: Redis, prefix = KEY_PREFIX): ValueStore {
  return {
    async get(key) {
      return (await guard(() => redis.get<string>(prefix + key))) ?? undefined;
    },
    async set(key, value, ttlSeconds) {
      await guard(() => redis.set(prefix + key, value, { ex: ttlSeconds }));
    },
    async delete(key) {
      await guard(() => redis.del(prefix + key));
    },
  };
}

// KEYS[1] = the order's counts (hash: file id -> transfers), ARGV[1] = file id, ARGV[2] = limit.
// Returns {1, count} when a transfer was counted, {0, count} when the limit was already reached.
const TAKE = `
local used = tonumber(redis.call("HGET", KEYS[1], ARGV[1]) or "0")
if used >= tonumber(ARGV[2]) then return {0, used} end
return {1, redis.call("HINCRBY", KEYS[1], ARGV[1], 1)}`;

/** Download counts: `<prefix>downloads:<orderKey>` hashes of file id -> transfers, no expiry. */
export function upstashDownloadCounter(redis: Redis, prefix = KEY_PREFIX): DownloadCounter {
  const countsKey = (orderKey: string) => `${prefix}downloads:${orderKey}`;
  return {
    async used(orderKey, fileId) {
      return Number((await guard(() => redis.hget<string>(countsKey(orderKey), fileId))) ?? 0);
    },
    async take(orderKey, fileId, limit) {
      const [taken, used] = await guard(() =>
        redis.eval<string[], [number, number]>(TAKE, [countsKey(orderKey)], [fileId, String(limit)]),
      );
      return { taken: taken === 1, used: Number(used) };
    },
    async all(orderKey) {
      const counts = (await guard(() => redis.hgetall<Record<string, string>>(countsKey(orderKey)))) ?? {};
      return Object.fromEntries(Object.entries(counts).map(([id, count]) => [id, Number(count)]));
    },
    async reset(orderKey) {
      await guard(() => redis.del(countsKey(orderKey)));
    },
  };
}

function parseRecord(raw: string): LedgerRecord {
  return JSON.parse(raw) as LedgerRecord;
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StoreUnavailableError("Redis request failed", { cause: error });
  }
}
