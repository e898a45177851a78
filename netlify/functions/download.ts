/** Netlify Function: a file of an order, behind its signed link. Glue only; the logic lives in src/. */
import type { Config, Context } from "@netlify/functions";
import { downloadFromEnv } from "../../src/app/download.ts";

// Built once per cold start and reused by warm invocations.
const handle = downloadFromEnv(process.env);

export default async (req: Request, _context: Context): Promise<Response> => handle(req);

// Every method reaches the handler: GET and HEAD show the page, POST transfers the file, anything else is 405.
export const config: Config = {
  path: "/download/*",
};
