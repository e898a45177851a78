/** ClaimStore over Upstash Redis (REST), with compare-and-set / compare-and-delete in Lua. */
import { Redis } from "@upstash/redis";
import { StoreUnavailableError } from "../errors.ts";
import type { Claim, ClaimStore } from "../fulfillment/ports.ts";

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

const DONE = "done";
const PROCESSING = "processing:";

// KEYS[1] = claim key, ARGV[1] = our token, ARGV[2] = "done" TTL (seconds).
const COMPLETE = `if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("SET", KEYS[1], "${DONE}", "EX", ARGV[2]) return 1 end return 0`;
// KEYS[1] = claim key, ARGV[1] = our token.
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/** The two-phase claims of src/fulfillment/once.ts, stored as `processing:<uuid>` then `done`. */
export function upstashClaimStore(redis: Redis): ClaimStore {
  return {
    async claim(key, ttlSeconds): Promise<Claim> {
      const token = PROCESSING + crypto.randomUUID();
      const taken = await guard(() => redis.set(key, token, { nx: true, ex: ttlSeconds }));
      if (taken === "OK") return { state: "claimed", token };
      const current = await guard(() => redis.get<string>(key));
      if (current === DONE) return { state: "done" };
      // Held by another attempt, or released between our SET and GET: either way, not ours to run now.
      return { state: "busy" };
    },
    async complete(key, token, ttlSeconds) {
      const updated = await guard(() =>
        redis.eval<string[], number>(COMPLETE, [key], [token, String(ttlSeconds)]),
      );
      return updated === 1;
    },
    async release(key, token) {
      await guard(() => redis.eval<string[], number>(RELEASE, [key], [token]));
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
