/** CLI glue for `npm run trigger`; the logic lives in src/local/trigger.ts. */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { runTrigger } from "../src/local/trigger.ts";

// The process environment wins over .env, as in npm start and netlify dev.
const dotenv = existsSync(".env") ? parseEnv(readFileSync(".env", "utf8")) : {};

process.exitCode = await runTrigger(
  process.argv.slice(2),
  { ...dotenv, ...process.env },
  { out: (line) => console.log(line), err: (line) => console.error(line) },
);
