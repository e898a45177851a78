/** The shop's sales count per run over Upstash Redis: a set of orders per run, and one hash of counts to read. */
import type { Redis } from "@upstash/redis";
import { StoreUnavailableError } from "../lib/errors.ts";
import type { SaleCount, SalesStore } from "../stock/sales.ts";
import { KEY_PREFIX } from "./upstash.ts";

/**
 * KEYS[1] = the run's orders (set), KEYS[2] = counts (hash: run -> orders), KEYS[3] = the run's alert mark;
 * ARGV = run, order key, stock. Adds the order once, keeps the count beside it, and returns {orders, 1} for the one
 * call that sets the alert mark once the orders exceed the stock, else {orders, 0}. No expiry: sales are facts.
 */
const RECORD = `
redis.call("SADD", KEYS[1], ARGV[2])
local sold = redis.call("SCARD", KEYS[1])
redis.call("HSET", KEYS[2], ARGV[1], sold)
if sold > tonumber(ARGV[3]) and redis.call("SET", KEYS[3], "1", "NX") then return {sold, 1} end
return {sold, 0}`;

/** Sales under `<prefix>stock:`: `sold:<run>` sets, the `counts` hash and `alerted:<run>:<stock>` marks. */
export function upstashSales(redis: Redis, prefix = KEY_PREFIX): SalesStore {
  const key = (name: string) => `${prefix}stock:${name}`;
  return {
    async record(run, orderKey, stock): Promise<SaleCount> {
      const [sold, alert] = await guard(() =>
        redis.eval<string[], [number, number]>(
          RECORD,
          [key(`sold:${run}`), key("counts"), key(`alerted:${run}:${stock}`)],
          [run, orderKey, String(stock)],
        ),
      );
      return { sold: Number(sold), alert: alert === 1 };
    },
    async clearAlert(run, stock) {
      await guard(() => redis.del(key(`alerted:${run}:${stock}`)));
    },
    async counts(runs) {
      if (runs.length === 0) return [];
      // Without automatic deserialisation the client hands HMGET's reply over as Redis sends it: one value per field.
      const values: unknown = await guard(() => redis.hmget(key("counts"), ...runs));
      return runs.map((_, index) => Number((Array.isArray(values) ? values[index] : null) ?? 0));
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
