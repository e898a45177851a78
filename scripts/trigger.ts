/** CLI glue for `npm run trigger`; the logic lives in dev/trigger.ts. */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { readStackRecord } from "../src/commands/stack-record.ts";
import { runTrigger } from "../dev/trigger.ts";

// The process environment wins over a running npm start (its emulator and outbox, on whatever ports it uses),
// which wins over .env, as in npm start and netlify dev.
const dotenv = existsSync(".env") ? parseEnv(readFileSync(".env", "utf8")) : {};
const stack = await readStackRecord(".linkshop");

process.exitCode = await runTrigger(
  process.argv.slice(2),
  { ...dotenv, ...stack?.functionEnv, ...process.env },
  { out: (line) => console.log(line), err: (line) => console.error(line) },
);
