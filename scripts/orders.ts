/** CLI glue for `npm run orders`; the logic lives in src/orders/cli.ts. */
import { commandEnv } from "../src/commands/config.ts";
import { runOrders } from "../src/commands/orders.ts";

const { env } = await commandEnv(process.cwd(), process.env);
// The Resend SDK reads its base URL (a local outbox under npm start) from the process environment.
if (env.RESEND_BASE_URL) process.env.RESEND_BASE_URL = env.RESEND_BASE_URL;

process.exitCode = await runOrders(process.argv.slice(2), env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
