/**
 * Netlify Scheduled Function: sends what waits in the mail queue, every minute. The webhook drains right after each
 * delivery; this run picks up what a burst, a rate limit, a provider outage or a spent daily quota left waiting.
 * Glue only; the logic lives in src/.
 */
import type { Config } from "@netlify/functions";
import { emailDrainFromEnv } from "../../src/app/email-drain.ts";

// Built once per cold start and reused by warm invocations.
const run = emailDrainFromEnv(process.env);

// Netlify ignores a scheduled function's answer; under netlify dev (invoked by hand) the counts are handy.
export default async (): Promise<Response> => {
  const summary = await run();
  return Response.json(summary ? { ran: true, ...summary } : { ran: false }, { status: summary ? 200 : 500 });
};

export const config: Config = {
  schedule: "* * * * *",
};
