/**
 * The three local stand-ins (Stripe emulator, Upstash bridge, email outbox) on free ports of 127.0.0.1 for code that
 * runs the shop's functions in its own process or in `netlify dev`: the integration and end-to-end tests, the bench.
 * `npm start` decides service by service what is real and what is emulated; see stack.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { type Outbox, type OutboxOptions, startOutbox } from "./outbox.ts";
import {
  type StripeEmulator,
  type StripeEmulatorOptions,
  startStripeEmulator,
} from "./stripe-emulator/index.ts";
import { startUpstashBridge, type UpstashBridge, type UpstashBridgeOptions } from "./upstash-bridge.ts";

export interface LocalServicesOptions {
  /** How the emulator delivers and settles payments (its port is always a free one). */
  stripe?: Omit<StripeEmulatorOptions, "port">;
  /** The outbox's API key, when it should require one, and the sending domains it calls verified. */
  outbox?: Pick<OutboxOptions, "apiKey" | "verifiedDomains">;
  /** Which store the bridge uses; "redis" makes a missing Redis an error (CI). Default "auto". */
  redisBackend?: UpstashBridgeOptions["backend"];
  /**
   * Variables to set or override in `env`, e.g. a webhook secret or MERCHANT_EMAIL of the caller's own. The
   * services' URLs and the bridge's token are always the ones started.
   */
  env?: Record<string, string>;
}

/** The variables `startLocalServices` always sets. */
export type LocalServiceVariable =
  | "STRIPE_SECRET_KEY"
  | "STRIPE_WEBHOOK_SECRET"
  | "STRIPE_API_BASE"
  | "UPSTASH_REDIS_REST_URL"
  | "UPSTASH_REDIS_REST_TOKEN"
  | "RESEND_API_KEY"
  | "RESEND_BASE_URL"
  | "EMAIL_FROM"
  | "LINKSHOP_REDIS_PREFIX"
  | "LINKSHOP_DOWNLOAD_SECRET";

export interface LocalServices {
  stripe: StripeEmulator;
  bridge: UpstashBridge;
  outbox: Outbox;
  /**
   * What the functions and the merchant commands read, pointing at the stand-ins: STRIPE_SECRET_KEY,
   * STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, RESEND_API_KEY,
   * RESEND_BASE_URL, EMAIL_FROM, LINKSHOP_REDIS_PREFIX and LINKSHOP_DOWNLOAD_SECRET, plus `options.env`.
   */
  env: Record<LocalServiceVariable, string> & Record<string, string>;
  /** LINKSHOP_REDIS_PREFIX: this run's keys, apart from every other run's in a Redis they share. */
  prefix: string;
  /** An @upstash/redis client on the bridge that returns strings exactly as stored. */
  redis: Redis;
  /** Deletes this run's keys, stops the three services and removes the outbox's folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the three stand-ins. The Resend SDK reads RESEND_BASE_URL from the process environment when a client is
 * created, so it is set there too (for clients made in this process) until `stop`.
 */
export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  const outboxDir = await mkdtemp(join(tmpdir(), "linkshop-outbox-"));
  const started = await Promise.allSettled([
    startStripeEmulator({ ...options.stripe, port: 0 }),
    startUpstashBridge({
      token: `bridge-${randomUUID()}`,
      port: 0,
      backend: options.redisBackend ?? "auto",
      onWarning: () => {},
    }),
    startOutbox({ ...options.outbox, port: 0, dir: outboxDir }),
  ] as const);
  const [stripeStart, bridgeStart, outboxStart] = started;
  if (
    stripeStart.status === "rejected" ||
    bridgeStart.status === "rejected" ||
    outboxStart.status === "rejected"
  ) {
    await Promise.all(
      started.map((result) => (result.status === "fulfilled" ? result.value.close() : undefined)),
    );
    await rm(outboxDir, { recursive: true, force: true });
    const failure = started.find((result) => result.status === "rejected");
    throw failure?.reason instanceof Error ? failure.reason : new Error(String(failure?.reason));
  }
  const [stripe, bridge, outbox] = [stripeStart.value, bridgeStart.value, outboxStart.value];

  const env: LocalServices["env"] = {
    STRIPE_SECRET_KEY: "sk_test_local_services",
    STRIPE_WEBHOOK_SECRET: "whsec_local_services",
    RESEND_API_KEY: options.outbox?.apiKey ?? "re_local_services",
    EMAIL_FROM: "Fern & Fig <orders@shop.example>",
    LINKSHOP_REDIS_PREFIX: `test:${randomUUID()}:`,
    LINKSHOP_DOWNLOAD_SECRET: randomBytes(32).toString("hex"),
    ...options.env,
    STRIPE_API_BASE: stripe.url,
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: bridge.token,
    RESEND_BASE_URL: outbox.url,
  };
  const prefix = env.LINKSHOP_REDIS_PREFIX;
  const redis = new Redis({ url: bridge.url, token: bridge.token, automaticDeserialization: false });
  const previousResendBase = process.env.RESEND_BASE_URL;
  process.env.RESEND_BASE_URL = outbox.url;

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    if (previousResendBase === undefined) delete process.env.RESEND_BASE_URL;
    else process.env.RESEND_BASE_URL = previousResendBase;
    // Ledger records never expire: without this, every run would leave its orders in a shared Redis.
    if (prefix) {
      const keys = await redis.keys(`${prefix}*`).catch(() => []);
      if (keys.length > 0) await redis.del(...keys).catch(() => 0);
    }
    await Promise.all([stripe.close(), bridge.close(), outbox.close()]);
    await rm(outboxDir, { recursive: true, force: true });
  };
  return {
    stripe,
    bridge,
    outbox,
    env,
    prefix,
    redis,
    stop: () => (stopped ??= stop()),
  };
}
