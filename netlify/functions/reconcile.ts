/** Netlify Scheduled Function: hourly reconciliation of paid orders with the ledger. Glue only; logic in src/. */
import type { Config } from "@netlify/functions";
import { reconcileFromEnv } from "../../src/app/reconcile.ts";

// Built once per cold start and reused by warm invocations.
const run = reconcileFromEnv(process.env);

// Netlify ignores a scheduled function's answer; under netlify dev (invoked by hand) the counts are handy.
export default async (): Promise<Response> => {
  const summary = await run();
  return Response.json(summary ? { ran: true, ...summary } : { ran: false }, { status: summary ? 200 : 500 });
};

export const config: Config = {
  schedule: "@hourly",
};
