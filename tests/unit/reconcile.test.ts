import { describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/lib/errors.ts";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import { type ReconcileDeps, reconcile } from "../../src/reconcile/reconcile.ts";
import { emptyRecord } from "../../src/order/ledger.ts";
import { fakeDeps } from "../support/fakes.ts";
import { checkoutSession, lineItem } from "../support/stripe-payloads.ts";

function setup() {
  const fakes = fakeDeps();
  const values = new Map<string, string>();
  const deps: ReconcileDeps = {
    ...fakes.deps,
    values: {
      get: async (key) => values.get(key),
      set: async (key, value) => {
        values.set(key, value);
      },
      delete: async (key) => {
        values.delete(key);
      },
    },
  };
  const minutesAgo = (m: number) => Math.floor((fakes.clock.now - m * 60_000) / 1000);
  const add = (overrides: Record<string, unknown> = {}) => {
    const session = checkoutSession({ created: minutesAgo(30), ...overrides });
    fakes.sessions.sessions.set(session.id, session as unknown as SessionPayload);
    fakes.lineItems.items[session.id] = [
      lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
    ] as unknown as LineItemPayload[];
    return session;
  };
  const receiptsFor = (id: string) =>
    fakes.mailer.sent.filter((e) => e.to === "jenny@example.com" && e.text.includes(id));
  return { ...fakes, deps, values, add, minutesAgo, receiptsFor };
}

describe("reconcile", () => {
  it("fulfils paid sessions whose webhook never arrived, once, and leaves the rest alone", async () => {
    const { deps, add, mailer, receiptsFor, ledger, logs, drain } = setup();
    const missed = [add(), add(), add({ payment_status: "no_payment_required", amount_total: 0 })];
    const foreign = add({ metadata: {}, payment_link: null });
    const unpaid = add({ payment_status: "unpaid" });
    const setupMode = add({ mode: "setup", payment_status: "no_payment_required" });
    const summary = await reconcile(deps);
    // The pass queues; the drain sends (every minute, or right after a command's pass).
    await drain();
    expect(summary).toMatchObject({ complete: true, listed: 6, fulfilled: 3, notOurs: 2, unpaid: 1 });
    for (const session of missed) {
      expect(receiptsFor(session.id)).toHaveLength(1);
      expect(ledger.records.get(session.id)).toMatchObject({ state: "fulfilled", by: "reconcile" });
    }
    for (const session of [foreign, unpaid, setupMode]) expect(ledger.records.has(session.id)).toBe(false);
    expect(mailer.sent).toHaveLength(6);

    const again = await reconcile(deps);
    expect(again).toMatchObject({ complete: true, fulfilled: 0, alreadyFulfilled: 3 });
    expect(mailer.sent).toHaveLength(6);
    expect(logs.filter((l) => l.event === "reconcile.run")).toHaveLength(2);
  });

  it("reads Stripe's fulfilled marker from the list and costs no Redis command for it", async () => {
    const { deps, add, mailer } = setup();
    add({ metadata: { linkshop_id: "mug", linkshop_fulfilled_at: "2026-01-01T00:00:00.000Z" } });
    let ledgerReads = 0;
    const get = deps.ledger.get.bind(deps.ledger);
    deps.ledger.get = (key) => {
      ledgerReads++;
      return get(key);
    };
    expect(await reconcile(deps)).toMatchObject({ alreadyFulfilled: 1, fulfilled: 0 });
    expect(ledgerReads).toBe(0);
    expect(mailer.sent).toHaveLength(0);
  });

  it.each(["refunded", "disputed"] as const)(
    "never fulfils a %s order whose webhook never arrived, and does not list it in a dry run",
    async (state) => {
      const { deps, add, mailer, ledger } = setup();
      const session = add();
      await ledger.put(session.id, "absent", { ...emptyRecord(session.id, Date.now()), state });
      expect(await reconcile(deps, { dryRun: true })).toMatchObject({
        wouldFulfil: [],
        refundedOrDisputed: 1,
      });
      expect(await reconcile(deps)).toMatchObject({ fulfilled: 0, refundedOrDisputed: 1 });
      expect(mailer.sent).toEqual([]);
      expect(ledger.records.get(session.id)?.state).toBe(state);
    },
  );

  it("looks only at the window given by since", async () => {
    const { deps, add, minutesAgo, mailer } = setup();
    add({ created: minutesAgo(60 * 24 * 10) });
    const recent = add({ created: minutesAgo(10) });
    expect(await reconcile(deps, { since: minutesAgo(60) })).toMatchObject({ listed: 1, fulfilled: 1 });
    expect(mailer.sent.every((e) => e.text.includes(recent.id))).toBe(true);
  });

  it("stops at its time budget and resumes where it stopped, fulfilling each order once", async () => {
    const { deps, add, mailer, clock, values, lineItems, drain } = setup();
    const sessions = Array.from({ length: 7 }, () => add());
    // Each order's Stripe read takes 8 s of the injected clock: a 20 s budget fits about two orders.
    const list = lineItems.listLineItems.bind(lineItems);
    lineItems.listLineItems = async (id) => {
      clock.advance(8_000);
      return list(id);
    };
    const runs = [];
    for (let i = 0; i < 10; i++) {
      const summary = await reconcile(deps, { budgetMs: 20_000 });
      runs.push(summary);
      if (summary.complete) break;
      expect(values.has("reconcile:cursor")).toBe(true);
    }
    expect(runs.length).toBeGreaterThan(2);
    expect(runs.at(-1)?.complete).toBe(true);
    expect(runs.slice(1).every((r) => r.resumed)).toBe(true);
    expect(values.has("reconcile:cursor")).toBe(false);
    expect(runs.reduce((sum, r) => sum + r.fulfilled, 0)).toBe(7);
    await drain();
    for (const session of sessions) {
      expect(mailer.sent.filter((e) => e.text.includes(session.id))).toHaveLength(2);
    }
  });

  it("in a dry run lists what it would fulfil and sends or writes nothing", async () => {
    const { deps, add, mailer, ledger, values } = setup();
    const missed = add();
    const summary = await reconcile(deps, { dryRun: true });
    expect(summary.wouldFulfil).toEqual([missed.id]);
    expect(mailer.sent).toHaveLength(0);
    expect(ledger.records.size).toBe(0);
    expect(values.size).toBe(0);
  });

  it("counts a Stripe failure for one order and carries on with the others", async () => {
    const { deps, add, lineItems, mailer, drain } = setup();
    const broken = add();
    add();
    const list = lineItems.listLineItems.bind(lineItems);
    lineItems.listLineItems = async (id) => {
      if (id === broken.id) throw new UpstreamError("stripe", "stripe:500");
      return list(id);
    };
    expect(await reconcile(deps)).toMatchObject({ fulfilled: 1, errors: 1 });
    await drain();
    expect(mailer.sent).toHaveLength(2);
  });
});
