/**
 * "Find my order" must not tell who bought: the answer is the same for a known and an unknown address (tested), and
 * so should its time be. This times POST /orders for addresses with and without orders, over the local services.
 */
import { randomUUID } from "node:crypto";
import { customerFromEnv } from "../src/app/customer.ts";
import { services } from "../src/app/services.ts";
import { readConfig } from "../src/config.ts";
import { customerHash } from "../src/order/customers.ts";
import { startLocalServices } from "../dev/local-services.ts";

/** Median response times (ms) of sign-in requests for addresses with orders and without. */
export interface FindOrderTimes {
  knownMs: number;
  unknownMs: number;
  /** The slower of the two medians over the faster, in percent. */
  spreadPercent: number;
  requests: number;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** `rounds` requests of each kind, interleaved, each from its own client and address (so no limit is reached). */
export async function measureFindOrder(rounds = 100): Promise<FindOrderTimes> {
  const local = await startLocalServices({
    env: { URL: "https://shop.example", LINKSHOP_REDIS_PREFIX: `bench-find:${randomUUID()}:` },
  });
  try {
    const config = readConfig(local.env);
    const secret = config.downloadSecret ?? "";
    const { customers } = services(config, () => {});
    const handle = customerFromEnv(local.env, () => {});
    // What the measured requests leave behind (a queued sign-in email for known addresses) is not timed: it is sent
    // after the answer, as on Netlify.
    const after: Promise<unknown>[] = [];
    const ask = async (email: string, ip: string) => {
      const started = performance.now();
      const res = await handle(
        new Request("https://shop.example/orders", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ email }),
        }),
        { ip, waitUntil: (promise) => after.push(promise) },
      );
      await res.text();
      if (res.status !== 200) throw new Error(`find my order answered ${res.status}`);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < rounds + 10; i++) {
      const buyer = `buyer-${i}@example.com`;
      await customers.add(customerHash(buyer, secret), `cs_test_bench${i}`, Date.now());
      // Which kind goes first alternates, so neither gains from the other's warm-up.
      const knownFirst = i % 2 === 0;
      const first = await ask(knownFirst ? buyer : `stranger-${i}@example.com`, `198.51.100.${i % 250}`);
      const second = await ask(knownFirst ? `stranger-${i}@example.com` : buyer, `203.0.113.${i % 250}`);
      const [k, u] = knownFirst ? [first, second] : [second, first];
      // The first rounds warm the clients up.
      if (i >= 10) {
        known.push(k);
        unknown.push(u);
      }
    }
    await Promise.allSettled(after);
    const knownMs = median(known);
    const unknownMs = median(unknown);
    return {
      knownMs,
      unknownMs,
      spreadPercent: (Math.max(knownMs, unknownMs) / Math.min(knownMs, unknownMs)) * 100,
      requests: rounds * 2,
    };
  } finally {
    await local.stop();
  }
}
