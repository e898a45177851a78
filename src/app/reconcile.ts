/** The scheduled reconcile function's composition, built once per cold start. */
import { reasonOf } from "../lib/errors.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import { type ReconcileSummary, reconcile } from "../reconcile/reconcile.ts";
import { configured, type Env } from "./environment.ts";
import { services } from "./services.ts";

/**
 * The scheduled reconciliation for this environment: one bounded run per call. A configuration problem is logged
 * and the run skipped (a scheduled function has no caller to answer).
 */
export function reconcileFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): () => Promise<ReconcileSummary | undefined> {
  const result = configured(env);
  if ("error" in result) {
    return async () => {
      log("config.invalid", { message: result.error.message });
      return undefined;
    };
  }
  const deps = services(result.config, log);
  return async () => {
    try {
      return await reconcile(deps);
    } catch (error) {
      log("reconcile.failed", {
        level: "error",
        reason: reasonOf(error, "internal_error"),
      });
      return undefined;
    }
  };
}
