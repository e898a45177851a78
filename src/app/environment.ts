/** What every function's composition starts from: its environment, validated once per cold start. */
import { type Config, ConfigError, readConfig } from "../config.ts";

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
