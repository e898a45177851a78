/** The order-status function's composition, built once per cold start. */
import { jsonLogger, type Logger } from "../lib/log.ts";
import { createOrderStatusHandler } from "../order-status/handler.ts";
import { configured, type Env } from "./environment.ts";
import { services } from "./services.ts";

/** The order-status handler for this environment. */
export function orderStatusFromEnv(env: Env, log: Logger = jsonLogger): (req: Request) => Promise<Response> {
  const result = configured(env);
  return createOrderStatusHandler({
    deps: "config" in result ? services(result.config, log) : result.error,
    log,
  });
}
