/** Netlify Scheduled Function: hourly reconciliation of paid orders with the ledger. Glue only; logic in src/. */
import type { Config } from "@netlify/functions";
import { reconcileFromEnv } from "../../src/app.ts";

// Built once per cold start and reused by warm invocations.
const run = reconcileFromEnv(process.env);

export default async (): Promise<void> => {
  await run();
};

export const config: Config = {
  schedule: "@hourly",
};
