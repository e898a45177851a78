/**
 * A per-client request budget over Upstash Redis with @upstash/ratelimit, shared by every invocation of a function.
 * Clients are named by a keyed hash of their address: the address itself is never stored or logged.
 */
import { createHmac } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import ipaddr from "ipaddr.js";
import { StoreUnavailableError } from "../lib/errors.ts";
import { KEY_PREFIX } from "./upstash.ts";

/** What a client may do now. `retryAfterSeconds` is 0 when allowed. */
export interface LimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

/** A budget of requests per client. `client` is the caller's address (or undefined when unknown). */
export interface ClientLimiter {
  /** From this instance's memory alone, no store command: whether the client is known to be over its budget. */
  blocked(client: string | undefined): LimitDecision | undefined;
  /** Spends one request of the client's budget: one store command. Throws StoreUnavailableError. */
  take(client: string | undefined): Promise<LimitDecision>;
}

/** How a limiter is set up. */
export interface ClientLimiterOptions {
  /** Keys the hash of client addresses (a secret of the shop, so the stored names cannot be reversed). */
  secret: string;
  /** Names the budget in Redis keys, e.g. `order-status`. */
  name: string;
  /** Requests per window and client. */
  requests: number;
  /** Window length. Seconds. */
  windowSeconds: number;
  prefix?: string;
  /** Milliseconds since the epoch; injected so tests control time. */
  now?: () => number;
}

/**
 * @upstash/ratelimit as the shop uses it: keys under `<prefix>ratelimit:<name>`, a blocked caller costing no command
 * until its window resets (in this instance), a store that does not answer failing the request rather than waving
 * it through, and nothing sent to Upstash's analytics or telemetry.
 */
export function shopRatelimit(
  redis: Redis,
  options: { name: string; prefix?: string | undefined; limiter: ReturnType<typeof Ratelimit.fixedWindow> },
): Ratelimit {
  return new Ratelimit({
    redis,
    limiter: options.limiter,
    prefix: `${options.prefix ?? KEY_PREFIX}ratelimit:${options.name}`,
    ephemeralCache: new Map(),
    timeout: 0,
    analytics: false,
    enableTelemetry: false,
  });
}

/** A sliding-window limiter; its blocked clients are remembered by this instance until their window resets. */
export function upstashClientLimiter(redis: Redis, options: ClientLimiterOptions): ClientLimiter {
  const now = options.now ?? Date.now;
  // Client name -> when its block ends (ms). The library keeps the same facts in its own cache for limit().
  const blockedUntil = new Map<string, number>();
  const ratelimit = shopRatelimit(redis, {
    name: options.name,
    prefix: options.prefix,
    limiter: Ratelimit.slidingWindow(options.requests, `${options.windowSeconds} s`),
  });
  const nameOf = (client: string | undefined) =>
    createHmac("sha256", options.secret)
      .update(`${options.name}:${clientNetwork(client)}`)
      .digest("hex")
      .slice(0, 32);
  const decision = (until: number): LimitDecision => ({
    allowed: false,
    retryAfterSeconds: Math.max(1, Math.ceil((until - now()) / 1000)),
  });

  return {
    blocked(client) {
      const name = nameOf(client);
      const until = blockedUntil.get(name);
      if (until === undefined) return undefined;
      if (until > now()) return decision(until);
      blockedUntil.delete(name);
      return undefined;
    },
    async take(client) {
      const name = nameOf(client);
      let result: Awaited<ReturnType<Ratelimit["limit"]>>;
      try {
        result = await ratelimit.limit(name);
      } catch (error) {
        throw new StoreUnavailableError("rate limit unavailable", { cause: error });
      }
      if (result.success) return { allowed: true, retryAfterSeconds: 0 };
      if (blockedUntil.size >= MAX_REMEMBERED) forgetExpired(blockedUntil, now());
      blockedUntil.set(name, result.reset);
      return decision(result.reset);
    },
  };
}

/** The name every client shares in a budget for all of them together. */
const EVERY_CLIENT = "every-client";

/**
 * A per-client budget inside one budget for every client together: a request must fit both, so many clients (or one
 * with many addresses) cannot together spend more than the whole. The shared budget is spent only by requests the
 * client's own budget allowed, and a spent one is known from the instance's memory, like a blocked client.
 */
export function withSharedBudget(perClient: ClientLimiter, shared: ClientLimiter): ClientLimiter {
  return {
    blocked: (client) => perClient.blocked(client) ?? shared.blocked(EVERY_CLIENT),
    async take(client) {
      const own = await perClient.take(client);
      return own.allowed ? shared.take(EVERY_CLIENT) : own;
    },
  };
}

/**
 * What one client's budget counts: an IPv4 address itself (an IPv4-mapped IPv6 one as IPv4), and for IPv6 the /64
 * network. A household, phone or server is usually given a whole /64, so counting single IPv6 addresses would let
 * one client rotate through 2^64 budgets. Anything that is not an address counts as itself.
 */
export function clientNetwork(client: string | undefined): string {
  if (client === undefined) return "unknown";
  if (!ipaddr.isValid(client)) return client;
  const address = ipaddr.process(client);
  if (!(address instanceof ipaddr.IPv6)) return address.toString();
  const hextets = address.parts.slice(0, 4).map((part) => part.toString(16));
  return `${hextets.join(":")}::/64`;
}

/** Blocked clients an instance remembers before it drops the expired ones (a few hundred KB at most). */
const MAX_REMEMBERED = 10_000;

function forgetExpired(blocked: Map<string, number>, now: number): void {
  for (const [name, until] of blocked) if (until <= now) blocked.delete(name);
  // Still full of live blocks (an attack from many addresses): the oldest go; the store still counts them.
  for (const name of blocked.keys()) {
    if (blocked.size < MAX_REMEMBERED) break;
    blocked.delete(name);
  }
}
