import type { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { upstashClaimStore } from "../../src/adapters/upstash.ts";
import { StoreUnavailableError } from "../../src/lib/errors.ts";

/** Just enough of a Redis client for claims: a Map, where SET NX can "lose" its first answer. */
function redisWithLostAnswer(options: { loseFirstAnswer: boolean }) {
  const values = new Map<string, string>();
  let first = true;
  const redis = {
    async set(key: string, value: string, opts: { nx?: boolean }): Promise<"OK" | null> {
      if (opts.nx && values.has(key)) return null;
      values.set(key, value);
      if (first && options.loseFirstAnswer) {
        first = false;
        // The SDK retries the request whose answer was lost; the key now holds our own token.
        return redis.set(key, value, opts);
      }
      return "OK";
    },
    async get(key: string) {
      return values.get(key) ?? null;
    },
  };
  return { redis: redis as unknown as Redis, values };
}

describe("upstashClaimStore", () => {
  it("counts a retried SET NX that finds its own token as a claim, not as busy", async () => {
    const { redis } = redisWithLostAnswer({ loseFirstAnswer: true });
    const claim = await upstashClaimStore(redis).claim("claim:order:cs_test_1", 90);
    expect(claim.state).toBe("claimed");
  });

  it("reports busy when another attempt's token holds the key", async () => {
    const { redis, values } = redisWithLostAnswer({ loseFirstAnswer: false });
    values.set("linkshop:claim:order:cs_test_1", "someone-else");
    expect(await upstashClaimStore(redis).claim("claim:order:cs_test_1", 90)).toEqual({ state: "busy" });
  });

  it("turns any client error into StoreUnavailableError", async () => {
    const redis = {
      set: async () => {
        throw new Error("ECONNREFUSED");
      },
    } as unknown as Redis;
    await expect(upstashClaimStore(redis).claim("k", 90)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
