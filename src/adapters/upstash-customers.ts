/**
 * What the customer's pages need of Upstash Redis beyond the ledger: a sign-in email queued only when the address
 * has orders (one script, the same command whether or not it has), and the per-address budget of sign-in requests.
 */
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import type { MailJob } from "../fulfilment/ports.ts";
import { StoreUnavailableError } from "../lib/errors.ts";
import { TRANSITIONS } from "../order/ledger.ts";
import { KEY_PREFIX, ledgerLua } from "./upstash.ts";
import { shopRatelimit } from "./ratelimit.ts";

/** Queues a customer's email only when the customer has orders. Throws StoreUnavailableError. */
export interface SignInQueue {
  /** One store command either way; says nothing of which way it went. */
  queueIfKnown(customer: string, job: MailJob): Promise<void>;
}

/**
 * KEYS: the customer's orders (the index upstashCustomerOrders reads), pending mail, mail jobs, sent mail (the keys
 * upstashMailQueue drains). ARGV: the job's id, queue time and JSON. The queue's own `enqueue`, so the job is
 * skipped when its id is already waiting or was sent in the last 24 hours.
 */
const QUEUE_IF_KNOWN = `${ledgerLua(TRANSITIONS)}
if redis.call("EXISTS", KEYS[1]) == 1 then enqueue(KEYS[2], KEYS[3], KEYS[4], ARGV, 1) end
return 0`;

/** The sign-in queue over the mail queue's keys under `prefix`. */
export function upstashSignInQueue(redis: Redis, prefix = KEY_PREFIX): SignInQueue {
  return {
    async queueIfKnown(customer, job) {
      const keys = [
        `${prefix}customers:${customer}`,
        `${prefix}mail:pending`,
        `${prefix}mail:jobs`,
        `${prefix}mail:sent`,
      ];
      try {
        await redis.eval<string[], number>(QUEUE_IF_KNOWN, keys, [
          job.id,
          String(job.queuedAt),
          JSON.stringify(job),
        ]);
      } catch (error) {
        throw new StoreUnavailableError("Redis request failed", { cause: error });
      }
    },
  };
}

/**
 * A budget of requests per address in fixed windows. An allowed request gets its slot: the window and its number
 * within it, unique per address, which names its email once and for all.
 */
export interface AddressLimiter {
  /** Spends one request of the address's budget: one store command. Throws StoreUnavailableError. */
  take(customer: string): Promise<AddressDecision>;
}

/** What an address may do now. `retryAfterSeconds` is 0 when allowed. */
export type AddressDecision =
  { allowed: true; retryAfterSeconds: 0; slot: string } | { allowed: false; retryAfterSeconds: number };

/** A fixed-window limiter of `requests` per `windowSeconds`, keyed by the customer's hash (never the address). */
export function upstashAddressLimiter(
  redis: Redis,
  options: { name: string; requests: number; windowSeconds: number; prefix?: string; now?: () => number },
): AddressLimiter {
  const now = options.now ?? Date.now;
  const ratelimit = shopRatelimit(redis, {
    name: options.name,
    prefix: options.prefix,
    limiter: Ratelimit.fixedWindow(options.requests, `${options.windowSeconds} s`),
  });
  return {
    async take(customer) {
      let result: Awaited<ReturnType<Ratelimit["limit"]>>;
      try {
        result = await ratelimit.limit(customer);
      } catch (error) {
        throw new StoreUnavailableError("rate limit unavailable", { cause: error });
      }
      if (!result.success)
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((result.reset - now()) / 1000)) };
      // The window ends at `reset`; within it, the n-th request of the address is counted once (INCR).
      return {
        allowed: true,
        retryAfterSeconds: 0,
        slot: `${result.reset}-${result.limit - result.remaining}`,
      };
    },
  };
}
