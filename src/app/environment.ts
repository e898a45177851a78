/** What every function's composition starts from: its environment, validated once per cold start. */
import { type Config, ConfigError, readConfig } from "../config.ts";
import { reasonOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";

/** The process environment as a function sees it. */
export type Env = Record<string, string | undefined>;

/** The validated configuration, or the error naming every missing or malformed variable. */
export function configured(env: Env): { config: Config } | { error: ConfigError } {
  try {
    return { config: readConfig(env) };
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
}

/**
 * A scheduled function's run for this environment: `build` makes it from the configuration once per cold start.
 * A scheduled function has no caller to answer, so a configuration problem or a failed run is logged (as
 * `config.invalid` or `failedEvent`) and the run answers undefined.
 */
export function scheduledRun<T>(
  env: Env,
  log: Logger,
  failedEvent: string,
  build: (config: Config) => () => Promise<T>,
): () => Promise<T | undefined> {
  const result = configured(env);
  if ("error" in result) {
    return async () => {
      log("config.invalid", { message: result.error.message });
      return undefined;
    };
  }
  const run = build(result.config);
  return async () => {
    try {
      return await run();
    } catch (error) {
      log(failedEvent, { level: "error", reason: reasonOf(error, "internal_error") });
      return undefined;
    }
  };
}
