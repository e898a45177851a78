/** Netlify Function: Stripe webhook endpoint. Glue only; the logic lives in src/. */
import type { Config, Context } from "@netlify/functions";
import { webhookFromEnv } from "../../src/app/webhook.ts";

// Built once per cold start and reused by warm invocations.
const handle = webhookFromEnv(process.env);

export default async (req: Request, _context: Context): Promise<Response> => handle(req);

export const config: Config = {
  path: "/api/stripe-webhook",
  method: "POST",
};
