/**
 * The whole shop on one machine: `netlify dev` for the site and functions, plus a local stand-in for every service
 * that has no real credentials (Stripe emulator, Upstash bridge, email outbox).
 */
import { isLiveKey } from "../src/lib/stripe-keys.ts";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { BuildError, buildSite } from "../src/site/build.ts";
import { DEFAULT_LINKS_FILE } from "../src/site/links-file.ts";
import { loadCatalog } from "../src/shop/catalog.ts";
import { runCatalogSync } from "../src/commands/catalog-sync/command.ts";
import { HANDLED_EVENTS } from "../src/order/events.ts";
import { type NetlifyDev, startNetlifyDev } from "./netlify-dev.ts";
import { type Outbox, type OutboxLimits, startOutbox } from "./outbox.ts";
import { mailLine, type DrainSummary } from "../src/fulfilment/mail.ts";
import { type StripeCliCommands, stripeCliCommands } from "./stripe-cli.ts";
import { type StripeEmulator, startStripeEmulator } from "./stripe-emulator/index.ts";
import { watchSite } from "../src/site/watch.ts";
import { FunctionsBuildError } from "../src/site/functions.ts";
import { removeStackRecord, writeStackRecord } from "../src/commands/stack-record.ts";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge.ts";

export type Env = Record<string, string | undefined>;

/** Ports of the shop and of each local service. */
export interface StackPorts {
  shop: number;
  stripe: number;
  upstash: number;
  outbox: number;
}

export interface StackOptions {
  root: string;
  ports: StackPorts;
  /** `.env` merged under the process environment (the process wins, as in netlify dev). */
  env: Env;
  /** Progress and netlify dev output. */
  say: (line: string) => void;
  /** The Stripe emulator's delivery retries, attempt timeout, deliveries in flight and delayed-payment wait (ms). */
  stripeTiming?: {
    retryDelaysMs?: number[];
    asyncPaymentDelayMs?: number;
    deliveryTimeoutMs?: number;
    maxInFlight?: number;
  };
  /** Print netlify dev's own output (function logs included). Default true. */
  showNetlifyOutput?: boolean;
  /** Where the outbox keeps emails; default `<root>/.outbox`. */
  outboxDir?: string;
  /**
   * Where the built site goes; default `<workDir>/site`, apart from dist/ so `npm run build` cannot change what a
   * running stack serves. Tests use their own, so stacks can run side by side.
   */
  outDir?: string;
  /** Rebuild the site when catalog.json, public/ or the links file change. Default true. */
  watch?: boolean;
  /** Where local Payment Links are written; default `<root>/.linkshop`. */
  workDir?: string;
  /** Further variables for the functions, e.g. a Redis key prefix of their own for a test's stack. */
  functionEnv?: Record<string, string>;
  /** Backend of the Upstash bridge; "redis" makes a missing Redis an error (CI). Default "auto". */
  redisBackend?: "auto" | "redis" | "memory";
  /**
   * Resend's limits for the outbox to enforce (429 `rate_limit_exceeded` / `daily_quota_exceeded`). Default none;
   * `npm start` asks for Resend's 2 requests per second. With a rate, the functions pace their sends to it
   * (LINKSHOP_EMAIL_RATE) unless the environment sets their pace.
   */
  outboxLimits?: OutboxLimits;
  /**
   * How often the scheduled functions run, as Netlify's scheduler would (netlify dev runs them only when asked):
   * `email-drain` is invoked this often while the stack runs. Milliseconds; default 60 000 (its schedule); 0 never.
   */
  scheduleEveryMs?: number;
}

/** Which services are real and which are emulated, and where. */
export interface StackServices {
  stripe:
    | {
        mode: "emulated";
        url: string;
        /** The real Stripe CLI's `listen` and `trigger` against this emulator and shop. */
        cli: StripeCliCommands;
      }
    | { mode: "real"; live: boolean };
  upstash: { mode: "emulated"; backend: "redis" | "memory" } | { mode: "real" };
  resend: { mode: "emulated"; outboxUrl: string; limits: OutboxLimits } | { mode: "real" };
}

export interface Stack {
  shopUrl: string;
  services: StackServices;
  /** Environment the functions run with (secrets included: never print it). */
  functionEnv: Record<string, string>;
  /** The local stand-ins that were started, for tests and drills (e.g. making the outbox refuse mail). */
  local: { stripe?: StripeEmulator; bridge?: UpstashBridge; outbox?: Outbox };
  stop(): Promise<void>;
}

/** The scheduled function netlify dev runs only when invoked, and its schedule ("* * * * *"). Milliseconds. */
const SCHEDULED_FUNCTION = "email-drain";
const SCHEDULE_MS = 60_000;
/** The most LINKSHOP_EMAIL_RATE takes (requests per second). */
const MAX_EMAIL_RATE = 99;

/** Local key of the emulated Stripe account (any sk_test_ key works there; this one is not a secret). */
const LOCAL_STRIPE_KEY = "sk_test_linkshop_local";
/** What the shop's Stripe webhook endpoint subscribes to, plus `expired` to show it being acknowledged and ignored. */
const LOCAL_HANDLED_EVENTS = [...HANDLED_EVENTS, "checkout.session.expired"];

/** A port is taken: the message says which and how to pick another. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
}

/** The stack cannot start for a reason its message explains (printed without a stack trace). */
export class StackError extends Error {
  override readonly name = "StackError";
}

const PORT_HINTS: Record<keyof StackPorts, string> = {
  shop: "--port (or LINKSHOP_PORT)",
  stripe: "--stripe-port (or LINKSHOP_STRIPE_PORT)",
  upstash: "--upstash-port (or LINKSHOP_UPSTASH_PORT)",
  outbox: "--outbox-port (or LINKSHOP_OUTBOX_PORT)",
};

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

/** Decides what runs where, starts it, and resolves once the shop answers. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { env, ports, root, say } = options;
  const realStripe = set(env.STRIPE_SECRET_KEY) && !set(env.STRIPE_API_BASE);
  const realUpstash = set(env.UPSTASH_REDIS_REST_URL);
  const realResend = set(env.RESEND_API_KEY) && !set(env.RESEND_BASE_URL);
  const needed: (keyof StackPorts)[] = [
    "shop",
    ...(realStripe ? [] : ["stripe" as const]),
    ...(realUpstash ? [] : ["upstash" as const]),
    ...(realResend ? [] : ["outbox" as const]),
  ];
  for (const name of needed) {
    if (!(await portIsFree(ports[name]))) {
      throw new PortInUseError(
        `Port ${ports[name]} (${name}) is already in use. Stop what is using it, or choose another port with ${PORT_HINTS[name]}.`,
      );
    }
  }

  const shopUrl = `http://localhost:${ports.shop}`;
  const catalog = await loadCatalog(join(root, "catalog.json"), { siteDir: join(root, "public") });
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch(() => {});
  };
  try {
    const functionEnv: Record<string, string> = { URL: shopUrl, ...options.functionEnv };
    const workDir = options.workDir ?? join(root, ".linkshop");
    let stripe: StackServices["stripe"];
    let upstash: StackServices["upstash"];
    let resend: StackServices["resend"];
    const local: Stack["local"] = {};

    if (realResend) {
      resend = { mode: "real" };
    } else {
      const from = set(env.EMAIL_FROM) ? env.EMAIL_FROM : `${catalog.shop.name} <orders@shop.localhost>`;
      const apiKey = `re_local_${randomBytes(16).toString("hex")}`;
      const outbox: Outbox = await startOutbox({
        port: ports.outbox,
        dir: options.outboxDir ?? join(root, ".outbox"),
        apiKey,
        // Like a Resend account whose sending domain is verified.
        verifiedDomains: [domainOf(from)],
        ...options.outboxLimits,
      });
      stoppers.push(() => outbox.close());
      local.outbox = outbox;
      Object.assign(functionEnv, { RESEND_API_KEY: apiKey, RESEND_BASE_URL: outbox.url });
      if (!set(env.EMAIL_FROM)) functionEnv.EMAIL_FROM = from;
      if (!set(env.MERCHANT_EMAIL)) functionEnv.MERCHANT_EMAIL = "merchant@shop.localhost";
      const rate = options.outboxLimits?.requestsPerSecond;
      // The shop spaces its requests by its own setting (a real account's limit); here it is the outbox's.
      if (
        rate !== undefined &&
        !set(env.LINKSHOP_EMAIL_RATE) &&
        functionEnv.LINKSHOP_EMAIL_RATE === undefined
      ) {
        functionEnv.LINKSHOP_EMAIL_RATE = String(Math.min(MAX_EMAIL_RATE, Math.max(1, Math.floor(rate))));
      }
      resend = { mode: "emulated", outboxUrl: outbox.url, limits: { ...options.outboxLimits } };
    }

    if (realUpstash) {
      upstash = { mode: "real" };
    } else {
      const bridge: UpstashBridge = await startUpstashBridge({
        token: randomBytes(16).toString("hex"),
        port: ports.upstash,
        backend: options.redisBackend ?? "auto",
        onWarning: (message) => say(`warning: ${message}`),
        ...(set(env.REDIS_URL) && { redisUrl: env.REDIS_URL }),
      });
      stoppers.push(() => bridge.close());
      local.bridge = bridge;
      Object.assign(functionEnv, {
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: bridge.token,
      });
      upstash = { mode: "emulated", backend: bridge.backend };
    }

    await mkdir(workDir, { recursive: true });
    let linksFile: string | undefined;
    if (realStripe) {
      const live = isLiveKey(env.STRIPE_SECRET_KEY);
      stripe = { mode: "real", live };
    } else {
      const secret = `whsec_${randomBytes(24).toString("hex")}`;
      const webhookUrl = `${shopUrl}/api/stripe-webhook`;
      // `stripe listen` sessions get the same secret, so the function verifies the CLI's deliveries too; while one
      // forwards to the shop, the emulator's own delivery to it stands down (see stripe-emulator/README.md).
      const emulator: StripeEmulator = await startStripeEmulator({
        port: ports.stripe,
        webhook: { url: webhookUrl, secret, events: LOCAL_HANDLED_EVENTS },
        ...options.stripeTiming,
      });
      stoppers.push(() => emulator.close());
      local.stripe = emulator;
      Object.assign(functionEnv, {
        STRIPE_SECRET_KEY: LOCAL_STRIPE_KEY,
        STRIPE_WEBHOOK_SECRET: secret,
        STRIPE_API_BASE: emulator.url,
      });
      // The shop's Buy buttons need Payment Links: create them in the emulator from the catalog.
      linksFile = join(workDir, "payment-links.local.json");
      stripe = {
        mode: "emulated",
        url: emulator.url,
        cli: stripeCliCommands({
          stripeUrl: emulator.url,
          apiKey: LOCAL_STRIPE_KEY,
          webhookUrl,
          events: LOCAL_HANDLED_EVENTS,
        }),
      };
    }
    // `npm run trigger` and `stripe trigger` create sessions without a Payment Link: fulfil every session locally.
    if (!set(env.LINKSHOP_FULFIL_SESSIONS)) functionEnv.LINKSHOP_FULFIL_SESSIONS = "all";
    // The catalog's files are delivered by signed links: a local secret of its own, kept in the work folder so the
    // links emailed by one run still open after a restart.
    if (!set(env.LINKSHOP_DOWNLOAD_SECRET)) functionEnv.LINKSHOP_DOWNLOAD_SECRET = await localSecret(workDir);

    // The stack's own copy of the site, so `npm run build` (which writes dist/) cannot change what it serves.
    const outDir = options.outDir ?? join(workDir, "site");
    const emulatorUrl = local.stripe?.url;
    const catalogPath = join(root, "catalog.json");
    const buildLocalSite = async () => {
      if (emulatorUrl && linksFile) {
        const code = await runCatalogSync(
          ["--out", linksFile, "--site-url", shopUrl],
          { STRIPE_SECRET_KEY: functionEnv.STRIPE_SECRET_KEY, STRIPE_API_BASE: emulatorUrl },
          { out: () => {}, err: (line) => say(line) },
          root,
        );
        if (code !== 0)
          throw new StackError("Could not sync the catalog into the Stripe emulator (see above).");
      }
      const build = await buildSite({ root, outDir, ...(linksFile && { linksFile }) });
      for (const warning of build.warnings) say(`warning: ${warning}`);
    };
    await buildLocalSite();

    // netlify dev bundles the functions before it starts, and its dev command rebuilds them on every change.
    const netlify: NetlifyDev = await startNetlifyDev({
      port: ports.shop,
      cwd: root,
      siteDir: outDir,
      env: functionEnv,
      // Quiet, the output still tells what the scheduled drain sent or why it failed.
      onOutput: options.showNetlifyOutput !== false ? say : (line) => drainNews(line, say),
    }).catch((error: unknown) => {
      throw error instanceof FunctionsBuildError ? new StackError(error.message) : error;
    });
    stoppers.push(() => netlify.stop());
    const everyMs = options.scheduleEveryMs ?? SCHEDULE_MS;
    if (everyMs > 0) {
      const scheduler = runScheduled(shopUrl, everyMs, say);
      stoppers.push(() => scheduler.stop());
    }
    if (options.watch !== false) {
      // Edits to the catalog, the pictures and styles (or, with real Stripe, the links file) show on reload.
      const watcher = watchSite({
        files: [catalogPath, ...(linksFile ? [] : [join(root, DEFAULT_LINKS_FILE)])],
        folders: [join(root, "public")],
        rebuild: async () => {
          await buildLocalSite();
          say("Rebuilt the site from catalog.json and public/.");
        },
        onError: (error) =>
          say(
            error instanceof BuildError || error instanceof StackError
              ? `The site was not rebuilt:\n${error.message}`
              : `The site was not rebuilt: ${error instanceof Error ? error.message : String(error)}`,
          ),
      });
      stoppers.push(() => watcher.close());
    }
    // `npm run doctor`, `orders` and `reconcile` use the configuration the functions of this stack run with.
    await writeStackRecord(workDir, {
      pid: process.pid,
      shopUrl,
      ...(linksFile && { linksFile }),
      functionEnv,
    });
    stoppers.push(() => removeStackRecord(workDir));
    return { shopUrl, services: { stripe, upstash, resend }, functionEnv, local, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The local download-link secret in `<workDir>/download-secret`, made (64 hex characters) on first use. */
async function localSecret(workDir: string): Promise<string> {
  const file = join(workDir, "download-secret");
  const existing = (await readFile(file, "utf8").catch(() => "")).trim();
  if (existing.length >= 32) return existing;
  const secret = randomBytes(32).toString("hex");
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** `shop.example` from `Shop <orders@shop.example>` or `orders@shop.example`. */
function domainOf(mailbox: string): string {
  const address = /<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox;
  return address
    .slice(address.lastIndexOf("@") + 1)
    .trim()
    .toLowerCase();
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    // netlify dev listens on every interface; checking the wildcard address catches both stacks' users.
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * Runs `run` every `everyMs` until `stop()`, one run at a time (a run still going when the next is due makes that one
 * skip), as Netlify's scheduler runs a scheduled function. `run` gets a signal that aborts on stop.
 */
export function every(
  everyMs: number,
  run: (signal: AbortSignal) => Promise<void>,
): { stop(): Promise<void> } {
  const aborter = new AbortController();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= run(aborter.signal)
      .catch(() => {})
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      aborter.abort();
      await running;
    },
  };
}

/**
 * Invokes the scheduled function `name` of the netlify dev at `shopUrl` as Netlify's scheduler does; resolves with
 * its HTTP status (netlify dev answers 500 when the function threw).
 */
export async function invokeScheduled(shopUrl: string, name: string, signal?: AbortSignal): Promise<number> {
  // netlify dev answers a scheduled function's invocation with a help page unless it comes from the scheduler.
  const response = await fetch(`${shopUrl}/.netlify/functions/${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { "user-agent": "Netlify Clockwork" },
    ...(signal && { signal }),
  });
  await response.body?.cancel();
  return response.status;
}

/** Invokes the scheduled drain every `everyMs`; says nothing unless an invocation fails. */
function runScheduled(
  shopUrl: string,
  everyMs: number,
  say: (line: string) => void,
): { stop(): Promise<void> } {
  return every(everyMs, async (stopped) => {
    try {
      const status = await invokeScheduled(
        shopUrl,
        SCHEDULED_FUNCTION,
        AbortSignal.any([stopped, AbortSignal.timeout(everyMs)]),
      );
      if (status >= 400) say(`The scheduled ${SCHEDULED_FUNCTION} failed: HTTP ${status}.`);
    } catch (error) {
      if (stopped.aborted) return;
      const reason =
        error instanceof Error && error.name === "TimeoutError" ? "no answer in time" : "no answer";
      say(`The scheduled ${SCHEDULED_FUNCTION} did not run: ${reason}.`);
    }
  });
}

/**
 * Says in a line of its own what a drain's log line reports: what the scheduled drain sent, or that a drain (the
 * scheduled one or a webhook's) failed. Other lines are left out.
 */
export function drainNews(line: string, say: (line: string) => void): void {
  if (!line.startsWith("{") || !line.includes('"mail.drain')) return;
  let entry: { event?: unknown; reason?: unknown } & Partial<DrainSummary>;
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return;
  }
  // Both the webhook's drain and the scheduled run log mail.drain_failed; mail.drain.failed is read too.
  if (entry.event === "mail.drain_failed" || entry.event === "mail.drain.failed") {
    const reason = typeof entry.reason === "string" ? `: ${entry.reason}` : "";
    say(`An email drain failed${reason}; what it left waits for the next one.`);
  }
  if (entry.event === "mail.drained" && typeof entry.sent === "number" && entry.stopped !== undefined) {
    const summary = {
      requests: 0,
      fulfilled: 0,
      failed: 0,
      ...entry,
      sent: entry.sent,
      stopped: entry.stopped,
    };
    if (summary.sent > 0 || summary.stopped === "paused" || summary.stopped === "retry_later") {
      say(`Scheduled email drain: ${mailLine(summary)}.`);
    }
  }
}
