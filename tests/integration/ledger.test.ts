/**
 * The ledger's store follows the model's transition table: every (from, to) pair is tried against the generated Lua
 * script on a real Redis (through the Upstash bridge), and the fake ledger the unit tests use agrees with it.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, upstashCustomerOrders, upstashLedger } from "../../src/adapters/upstash.ts";
import type { Ledger } from "../../src/fulfilment/ports.ts";
import {
  canTransition,
  emptyRecord,
  type LedgerRecord,
  ORDER_STATES,
  type OrderState,
  SETTLED_STATES,
  TRANSITIONS,
} from "../../src/order/ledger.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import { MemoryLedger } from "../support/fakes.ts";
import { redisBackend } from "../support/redis.ts";

const FROM: (OrderState | "absent")[] = ["absent", ...ORDER_STATES];
const PAIRS = FROM.flatMap((from) => ORDER_STATES.map((to) => [from, to] as const));

function record(state: OrderState): LedgerRecord {
  return { ...emptyRecord("cs_test_ledger", 1_700_000_000_000), state };
}

/** Puts `from` (unless absent), then tries `from -> to`; says whether the store wrote and what it holds after. */
async function attempt(ledger: Ledger, key: string, from: OrderState | "absent", to: OrderState) {
  if (from !== "absent") expect(await ledger.put(key, "absent", record(from))).toBe(true);
  const written = await ledger.put(key, from, record(to));
  return { written, stored: (await ledger.get(key))?.state ?? "absent" };
}

const prefix = `linkshop-test:${randomUUID()}:`;
let bridge: UpstashBridge;
let redis: Redis;
let ledger: Ledger;

beforeAll(async () => {
  bridge = await startUpstashBridge({ token: randomUUID(), backend: redisBackend, onWarning: () => {} });
  redis = createRedisClient(bridge.url, bridge.token);
  ledger = upstashLedger(redis, prefix);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await bridge?.close();
});

describe("ledger transitions", () => {
  it("never lead back to sending from a settled order, keep a refund final, and let every state gain detail", () => {
    for (const settled of SETTLED_STATES)
      for (const sending of ["awaiting_payment", "fulfilling"] as const)
        expect(canTransition(settled, sending), `${settled} -> ${sending}`).toBe(false);
    expect(TRANSITIONS.fulfilled).toEqual(["fulfilled", "refunded", "disputed"]);
    expect(TRANSITIONS.refunded).toEqual(["refunded"]);
    for (const state of ORDER_STATES) expect(canTransition(state, state)).toBe(true);
  });

  it.each(PAIRS)("the Upstash ledger writes %s -> %s exactly when the table allows it", async (from, to) => {
    const { written, stored } = await attempt(
      ledger,
      `cs_test_${randomUUID().replaceAll("-", "")}`,
      from,
      to,
    );
    expect(written).toBe(canTransition(from, to));
    expect(stored).toBe(written ? to : from);
  });

  it.each(PAIRS)("the in-memory ledger of the unit tests agrees on %s -> %s", async (from, to) => {
    const { written } = await attempt(new MemoryLedger(), "cs_test_memory", from, to);
    expect(written).toBe(canTransition(from, to));
  });

  it("refuses a write whose expected state is stale", async () => {
    const key = `cs_test_${randomUUID().replaceAll("-", "")}`;
    expect(await ledger.put(key, "absent", record("fulfilling"))).toBe(true);
    expect(await ledger.put(key, "absent", record("failed"))).toBe(false);
    expect((await ledger.get(key))?.state).toBe("fulfilling");
  });
});

describe("the customer index", () => {
  it("lists an order under its customer in the write that records it, and only when that write happens", async () => {
    const customers = upstashCustomerOrders(redis, prefix);
    const customer = "c".repeat(64);
    const first = `cs_test_${randomUUID().replaceAll("-", "")}`;
    const second = `cs_test_${randomUUID().replaceAll("-", "")}`;
    expect(await ledger.put(first, "absent", { ...record("fulfilling"), createdAt: 1 }, { customer })).toBe(
      true,
    );
    // A write the compare-and-set refuses lists nothing.
    expect(
      await ledger.put(second, "fulfilled", { ...record("fulfilled"), createdAt: 3 }, { customer }),
    ).toBe(false);
    expect(await ledger.put(second, "absent", { ...record("fulfilling"), createdAt: 2 }, { customer })).toBe(
      true,
    );
    // Newest first; the merchant's index adds an order once however often it runs.
    await customers.add(customer, first, 1);
    expect(await customers.list(customer, 10)).toEqual([second, first]);
    expect(await customers.list("d".repeat(64), 10)).toEqual([]);
  });
});
