/** Netlify Function: the customer's own pages ("find my order", the orders a sign-in link opens). Glue only. */
import type { Config, Context } from "@netlify/functions";
import { customerFromEnv } from "../../src/app/customer.ts";

// Built once per cold start and reused by warm invocations.
const handle = customerFromEnv(process.env);

// The client's address names its budgets (hashed; never logged); waitUntil sends the queued emails after answering.
export default async (req: Request, context: Context): Promise<Response> =>
  handle(req, { ip: context.ip, waitUntil: context.waitUntil?.bind(context) });

export const config: Config = {
  path: ["/orders", "/orders/*"],
};
