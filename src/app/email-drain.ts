/** The scheduled mail drain's composition, built once per cold start. */
import { type DrainSummary, drainMail } from "../fulfilment/mail.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import { type Env, scheduledRun } from "./environment.ts";
import { services } from "./services.ts";

/**
 * How long one scheduled run sends. Netlify stops a scheduled function at 30 s; the margin covers one last request
 * (a batch request's lease is 30 s, so a run cut short is taken again by the next). Milliseconds.
 */
export const SCHEDULED_DRAIN_MS = 22_000;

/** The drain for this environment: one bounded run per call. */
export function emailDrainFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): () => Promise<DrainSummary | undefined> {
  return scheduledRun(env, log, "mail.drain_failed", (config) => {
    const deps = services(config, log).drain;
    return async () => {
      const summary = await drainMail(deps, SCHEDULED_DRAIN_MS);
      if (summary.requests > 0 || summary.stopped !== "empty") log("mail.drained", { ...summary });
      return summary;
    };
  });
}
