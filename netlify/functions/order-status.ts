/** Netlify Function: order status for the thank-you page. Glue only; the logic lives in src/. */
import type { Config, Context } from "@netlify/functions";
import { orderStatusFromEnv } from "../../src/app/order-status.ts";

// Built once per cold start and reused by warm invocations.
const handle = orderStatusFromEnv(process.env);

export default async (req: Request, _context: Context): Promise<Response> => handle(req);

export const config: Config = {
  path: "/api/order-status",
  method: "GET",
};
