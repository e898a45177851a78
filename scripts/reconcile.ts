/** CLI glue for `npm run reconcile`; the logic lives in src/reconcile/cli.ts. */
import { commandEnv } from "../src/commands/config.ts";
import { runReconcile } from "../src/commands/reconcile.ts";

const { env } = await commandEnv(process.cwd(), process.env);
// The Resend SDK reads its base URL (a local outbox under npm start) from the process environment.
if (env.RESEND_BASE_URL) process.env.RESEND_BASE_URL = env.RESEND_BASE_URL;

process.exitCode = await runReconcile(process.argv.slice(2), env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
