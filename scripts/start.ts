/** `npm start`: the whole shop locally. Emulates every service without real credentials in `.env`. */
import { isLiveKey } from "../src/lib/stripe-keys.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { BuildError } from "../src/site/build.ts";
import { CatalogError } from "../src/shop/catalog.ts";
import { HANDLED_EVENTS } from "../src/order/events.ts";
import type { OutboxLimits } from "../dev/outbox.ts";
import {
  type Env,
  PortInUseError,
  type Stack,
  StackError,
  type StackPorts,
  startStack,
} from "../dev/stack.ts";

const USAGE = `Usage: npm start -- [options]

Runs the shop with netlify dev. Services without real credentials in .env are emulated locally:
Stripe (with a checkout page), Upstash Redis and Resend (an outbox you can browse).

Options:
  --port <n>           shop port (default 8888, or LINKSHOP_PORT)
  --stripe-port <n>    Stripe emulator port (default 12111, or LINKSHOP_STRIPE_PORT)
  --upstash-port <n>   Upstash bridge port (default 8079, or LINKSHOP_UPSTASH_PORT)
  --outbox-port <n>    email outbox port (default 8025, or LINKSHOP_OUTBOX_PORT)
  --email-rate <n>     requests per second the outbox accepts, as Resend limits a team (default 2, or
                       LINKSHOP_OUTBOX_RATE; 0 = no limit); the shop paces its sends to it
  --email-daily-quota <n>
                       emails per day the outbox accepts, as Resend's free plan (100) does (default none, or
                       LINKSHOP_OUTBOX_DAILY_QUOTA; 0 = none)
  --quiet              hide netlify dev's own output
  -h, --help           show this help`;

const root = process.cwd();

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

function args() {
  try {
    return parseArgs({
      options: {
        port: { type: "string" },
        "stripe-port": { type: "string" },
        "upstash-port": { type: "string" },
        "outbox-port": { type: "string" },
        "email-rate": { type: "string" },
        "email-daily-quota": { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : error}\n\n${USAGE}`, 2);
  }
}

function port(flag: string | undefined, variable: string, fallback: number): number {
  const raw = flag ?? process.env[variable] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`Not a port: ${raw} (${variable})`, 2);
  return value;
}

/** A whole number from 0 to `max` from a flag or a variable; 0 means no limit (undefined). */
function limit(flag: string | undefined, name: string, variable: string, fallback: number, max: number) {
  const raw = (flag ?? process.env[variable] ?? String(fallback)).trim();
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max) {
    fail(
      `${name} must be a whole number from 0 (no limit) to ${max}, got "${raw}" (--${name} or ${variable})`,
      2,
    );
  }
  return value === 0 ? undefined : value;
}

const options = args();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const ports: StackPorts = {
  shop: port(options.port, "LINKSHOP_PORT", 8888),
  stripe: port(options["stripe-port"], "LINKSHOP_STRIPE_PORT", 12111),
  upstash: port(options["upstash-port"], "LINKSHOP_UPSTASH_PORT", 8079),
  outbox: port(options["outbox-port"], "LINKSHOP_OUTBOX_PORT", 8025),
};
const outboxLimits = {
  // Resend's figure for a new team (its 429 messages say 2 requests per second).
  requestsPerSecond: limit(options["email-rate"], "email-rate", "LINKSHOP_OUTBOX_RATE", 2, 99),
  dailyQuota: limit(
    options["email-daily-quota"],
    "email-daily-quota",
    "LINKSHOP_OUTBOX_DAILY_QUOTA",
    0,
    1_000_000,
  ),
};
// netlify dev reads .env itself; it is read here only to know which services have real credentials.
const dotenvPath = join(root, ".env");
const env: Env = {
  ...(existsSync(dotenvPath) ? parseEnv(readFileSync(dotenvPath, "utf8")) : {}),
  ...process.env,
};
if (isLiveKey(env.STRIPE_SECRET_KEY)) {
  fail("npm start refuses live-mode Stripe keys: put test-mode keys (sk_test_...) in .env for local work.");
}

let stack: Stack | undefined;
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the shop...`);
  await stack?.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

try {
  console.log("Starting Linkshop...");
  stack = await startStack({
    root,
    ports,
    env,
    say: (line) => console.log(line),
    showNetlifyOutput: !options.quiet,
    outboxLimits,
  });
} catch (error) {
  // Mistakes the developer can fix are explained, not shown as a stack trace.
  if (error instanceof CatalogError) fail(`${error.message}\n\nFix catalog.json, then run npm start again.`);
  const known = [PortInUseError, StackError, BuildError];
  if (known.some((kind) => error instanceof kind)) fail((error as Error).message);
  throw error;
}
if (stopping) await stack.stop();
else console.log(banner(stack));

/** "2 requests/s, 100 emails a day" for the outbox's limits. */
function limitsLine({ requestsPerSecond, dailyQuota }: OutboxLimits): string {
  const rate = requestsPerSecond === undefined ? "no rate limit" : `${requestsPerSecond} requests/s`;
  const quota = dailyQuota === undefined ? "no daily quota" : `${dailyQuota} emails a day`;
  return `${rate}, ${quota}; --email-rate, --email-daily-quota`;
}

function banner({ shopUrl, services }: Stack): string {
  const { stripe, upstash, resend } = services;
  const lines = [
    "",
    "  Linkshop is running",
    "",
    `  Shop      ${shopUrl}`,
    resend.mode === "emulated"
      ? `  Outbox    ${resend.outboxUrl}   (every email the shop sends)`
      : "  Outbox    - (real Resend)",
    "",
    stripe.mode === "emulated"
      ? `  Stripe    emulated at ${stripe.url} (checkout page, signed webhooks; deliveries: ${stripe.url}/_emulator/deliveries)`
      : "  Stripe    REAL (test mode) from .env",
    upstash.mode === "emulated"
      ? `  Upstash   emulated (bridge over ${upstash.backend === "redis" ? "the local Redis" : "an in-memory store"})`
      : "  Upstash   REAL from .env",
    resend.mode === "emulated"
      ? `  Resend    emulated (outbox above; ${limitsLine(resend.limits)})`
      : "  Resend    REAL from .env",
    "",
  ];
  if (stripe.mode === "emulated") {
    lines.push(
      "  Try it: open the shop, click Buy, and pay on the emulated checkout page.",
      "  Or send events: npm run trigger -- checkout.session.completed",
      "  Or a launch-day drop, timing every receipt: npm run trigger -- drop --orders 200 --seconds 120",
      "",
      "  Or use the real Stripe CLI (npm install --no-save @stripe/cli; then npx stripe ...), no account needed:",
      `    stripe ${stripe.cli.listen.join(" ")}`,
      "  and in another terminal (also async_payment_succeeded, async_payment_failed, expired):",
      `    stripe ${stripe.cli.trigger("checkout.session.completed").join(" ")}`,
      "  While listen runs, it delivers the events to the shop instead of the emulator.",
    );
  } else {
    lines.push(
      "  Forward Stripe's events to the function, in another terminal:",
      `    stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to localhost:${new URL(shopUrl).port}/api/stripe-webhook`,
      "  and put the signing secret it prints in .env as STRIPE_WEBHOOK_SECRET (then restart).",
      "  Then: stripe trigger checkout.session.completed",
    );
  }
  lines.push(
    "",
    "  The scheduled email drain runs every minute, as on Netlify (netlify dev alone runs it only when asked).",
    "",
    "  Press Ctrl-C to stop.",
    "",
  );
  return lines.join("\n");
}
