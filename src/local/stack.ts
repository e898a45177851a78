/**
 * The whole shop on one machine: `netlify dev` for the site and functions, plus a local stand-in for every service
 * that has no real credentials (Stripe emulator, Upstash bridge, email outbox).
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { buildSite } from "../catalog/build.ts";
import { loadCatalog } from "../catalog/schema.ts";
import { runCatalogSync } from "../catalog/sync-command.ts";
import { formatEnv, STACK_ENV_FILE_NAME } from "../commands/env.ts";
import { HANDLED_EVENTS } from "../webhook/route.ts";
import { type NetlifyDev, startNetlifyDev } from "./netlify-dev.ts";
import { type Outbox, startOutbox } from "./outbox.ts";
import { type StripeEmulator, startStripeEmulator } from "./stripe-emulator/index.ts";
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
  /** Delivery retry schedule and delayed-payment wait of the Stripe emulator, for tests. Milliseconds. */
  stripeTiming?: { retryDelaysMs?: number[]; asyncPaymentDelayMs?: number };
  /** Print netlify dev's own output (function logs included). Default true. */
  showNetlifyOutput?: boolean;
  /** Where the outbox keeps emails; default `<root>/.outbox`. */
  outboxDir?: string;
  /** Where the built site goes; default `<root>/dist`. Tests use their own, so stacks can run side by side. */
  outDir?: string;
  /** Where local Payment Links are written; default `<root>/.linkshop`. */
  workDir?: string;
  /** Backend of the Upstash bridge; "redis" makes a missing Redis an error (CI). Default "auto". */
  redisBackend?: "auto" | "redis" | "memory";
}

/** Which services are real and which are emulated, and where. */
export interface StackServices {
  stripe: { mode: "emulated"; url: string } | { mode: "real"; live: boolean };
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

/** A port is taken: the message says which and how to pick another. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
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
  const catalog = await loadCatalog(join(root, "catalog.json"));
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch(() => {});
  };
  try {
    const functionEnv: Record<string, string> = { URL: shopUrl };
    const workDir = options.workDir ?? join(root, ".linkshop");
    let stripe: StackServices["stripe"];
    let upstash: StackServices["upstash"];
    let resend: StackServices["resend"];
    const local: Stack["local"] = {};

    if (realResend) {
      resend = { mode: "real" };
    } else {
      const outbox: Outbox = await startOutbox({
        port: ports.outbox,
        dir: options.outboxDir ?? join(root, ".outbox"),
      });
      stoppers.push(() => outbox.close());
      local.outbox = outbox;
      Object.assign(functionEnv, { RESEND_API_KEY: "re_local_outbox", RESEND_BASE_URL: outbox.url });
      if (!set(env.EMAIL_FROM)) functionEnv.EMAIL_FROM = `${catalog.shop.name} <orders@shop.localhost>`;
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

    let linksFile: string | undefined;
    if (realStripe) {
      const live = /^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY?.trim() ?? "");
      stripe = { mode: "real", live };
    } else {
      const secret = `whsec_${randomBytes(24).toString("hex")}`;
      const emulator: StripeEmulator = await startStripeEmulator({
        port: ports.stripe,
        // What a Stripe webhook endpoint for this shop subscribes to, plus `expired` to show it being ignored.
        webhook: {
          url: `${shopUrl}/api/stripe-webhook`,
          secret,
          events: [...HANDLED_EVENTS, "checkout.session.expired"],
        },
        ...options.stripeTiming,
      });
      stoppers.push(() => emulator.close());
      local.stripe = emulator;
      Object.assign(functionEnv, {
        STRIPE_SECRET_KEY: "sk_test_linkshop_local",
        STRIPE_WEBHOOK_SECRET: secret,
        STRIPE_API_BASE: emulator.url,
      });
      // The shop's Buy buttons need Payment Links: create them in the emulator from the catalog.
      await mkdir(workDir, { recursive: true });
      linksFile = join(workDir, "payment-links.local.json");
      const code = await runCatalogSync(
        ["--out", linksFile, "--site-url", shopUrl],
        { STRIPE_SECRET_KEY: functionEnv.STRIPE_SECRET_KEY, STRIPE_API_BASE: emulator.url },
        { out: () => {}, err: (line) => say(line) },
        root,
      );
      if (code !== 0) throw new Error("Could not sync the catalog into the Stripe emulator (see above).");
      stripe = { mode: "emulated", url: emulator.url };
    }
    if (!set(env.SHOP_NAME)) functionEnv.SHOP_NAME = catalog.shop.name;
    // `npm run trigger` and `stripe trigger` create sessions without a Payment Link: fulfil every session locally.
    if (!set(env.LINKSHOP_FULFIL_SESSIONS)) functionEnv.LINKSHOP_FULFIL_SESSIONS = "all";

    const outDir = options.outDir ?? join(root, "dist");
    const build = await buildSite({ root, outDir, ...(linksFile && { linksFile }) });
    for (const warning of build.warnings) say(`warning: ${warning}`);

    const netlify: NetlifyDev = await startNetlifyDev({
      port: ports.shop,
      cwd: root,
      siteDir: outDir,
      env: functionEnv,
      ...(options.showNetlifyOutput !== false && { onOutput: (line: string) => say(line) }),
    });
    stoppers.push(() => netlify.stop());
    // `npm run orders` and `npm run reconcile` read this to reach the same emulated services while the stack runs.
    const envFile = join(workDir, STACK_ENV_FILE_NAME);
    await mkdir(workDir, { recursive: true });
    await writeFile(envFile, formatEnv(functionEnv), { mode: 0o600 });
    stoppers.push(() => rm(envFile, { force: true }));
    return { shopUrl, services: { stripe, upstash, resend }, functionEnv, local, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    // netlify dev listens on every interface; checking the wildcard address catches both stacks' users.
    server.listen(port, () => server.close(() => resolve(true)));
  });
}
