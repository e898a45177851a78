/** Netlify Function: which products are sold out, for the storefront. Glue only; the logic lives in src/. */
import type { Config, Context } from "@netlify/functions";
import { stockFromEnv } from "../../src/app/stock.ts";

// Built once per cold start and reused by warm invocations.
const handle = stockFromEnv(process.env);

export default async (req: Request, _context: Context): Promise<Response> => handle(req);

export const config: Config = {
  path: "/api/stock",
  method: "GET",
};
