/** Netlify Function: order status for the thank-you page. Glue only; the logic lives in src/. */
import type { Config, Context } from "@netlify/functions";
import { orderStatusFromEnv } from "../../src/app/order-status.ts";

// Built once per cold start and reused by warm invocations.
const handle = orderStatusFromEnv(process.env);

// The client's address names its request budget (hashed; never logged).
export default async (req: Request, context: Context): Promise<Response> => handle(req, { ip: context.ip });

export const config: Config = {
  path: "/api/order-status",
  method: "GET",
};
