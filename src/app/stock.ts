/** The stock function's composition: the deployed catalog and the sales counts in Redis; no Stripe, no Resend. */
import { createRedisClient } from "../adapters/upstash.ts";
import { upstashSales } from "../adapters/upstash-stock.ts";
import { ConfigError, readStoreConfig } from "../config.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import { createStockHandler, type StockDeps } from "../stock/handler.ts";
import { deployedCatalog } from "./catalog.ts";
import type { Env } from "./environment.ts";

/** The stock handler for this environment; a configuration problem becomes a 500 with the reason in the log. */
export function stockFromEnv(env: Env, log: Logger = jsonLogger): (req: Request) => Promise<Response> {
  let deps: StockDeps | ConfigError;
  try {
    const config = readStoreConfig(env);
    const redis = createRedisClient(config.upstashUrl, config.upstashToken);
    deps = { catalog: deployedCatalog(), sales: upstashSales(redis, config.redisPrefix), now: Date.now };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    deps = error;
  }
  return createStockHandler(deps, log);
}
