/** Netlify Function: Stripe webhook endpoint. Glue only; the logic lives in src/. */
import type { Config, Context } from "@netlify/functions";
import { webhookFromEnv } from "../../src/app/webhook.ts";

// Built once per cold start and reused by warm invocations.
const handle = webhookFromEnv(process.env);

// The context lets the handler send queued emails after answering Stripe (context.waitUntil).
export default async (req: Request, context: Context): Promise<Response> => handle(req, context);

export const config: Config = {
  path: "/api/stripe-webhook",
  method: "POST",
};
