/**
 * The download function's composition: the ledger, the counts and the files, and nothing else. It reads its own,
 * smaller configuration and loads neither the Stripe nor the Resend SDK.
 */
import { netlifyFileStore } from "../adapters/blobs.ts";
import { createRedisClient, upstashDownloadCounter, upstashLedger } from "../adapters/upstash.ts";
import { ConfigError, readDownloadConfig } from "../config.ts";
import { createDownloadHandler, type DownloadDeps } from "../download/handler.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import { shopInfo } from "../shop/info.ts";
import { deployedCatalog } from "./catalog.ts";
import type { Env } from "./environment.ts";

/** The download handler for this environment; a configuration problem becomes a 500 with the reason in the log. */
export function downloadFromEnv(env: Env, log: Logger = jsonLogger): (req: Request) => Promise<Response> {
  let deps: DownloadDeps | ConfigError;
  try {
    const config = readDownloadConfig(env);
    const redis = createRedisClient(config.upstashUrl, config.upstashToken);
    deps = {
      ledger: upstashLedger(redis, config.redisPrefix),
      counter: upstashDownloadCounter(redis, config.redisPrefix),
      files: netlifyFileStore(),
      shop: shopInfo(deployedCatalog(), config.siteUrl),
      secret: config.downloadSecret,
      now: Date.now,
      log,
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    deps = error;
  }
  return createDownloadHandler(deps, log);
}
