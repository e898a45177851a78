/** The scheduled reconcile function's composition, built once per cold start. */
import { jsonLogger, type Logger } from "../lib/log.ts";
import { type ReconcileSummary, reconcile } from "../reconcile/reconcile.ts";
import { type Env, scheduledRun } from "./environment.ts";
import { services } from "./services.ts";

/** The scheduled reconciliation for this environment: one bounded run per call. */
export function reconcileFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): () => Promise<ReconcileSummary | undefined> {
  return scheduledRun(env, log, "reconcile.failed", (config) => {
    const deps = services(config, log);
    return () => reconcile(deps);
  });
}
