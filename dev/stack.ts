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
import { type Outbox, startOutbox } from "./outbox.ts";
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
  resend: { mode: "emulated"; outboxUrl: string } | { mode: "real" };
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
      });
      stoppers.push(() => outbox.close());
      local.outbox = outbox;
      Object.assign(functionEnv, { RESEND_API_KEY: apiKey, RESEND_BASE_URL: outbox.url });
      if (!set(env.EMAIL_FROM)) functionEnv.EMAIL_FROM = from;
      if (!set(env.MERCHANT_EMAIL)) functionEnv.MERCHANT_EMAIL = "merchant@shop.localhost";
      resend = { mode: "emulated", outboxUrl: outbox.url };
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
      ...(options.showNetlifyOutput !== false && { onOutput: (line: string) => say(line) }),
    }).catch((error: unknown) => {
      throw error instanceof FunctionsBuildError ? new StackError(error.message) : error;
    });
    stoppers.push(() => netlify.stop());
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
