/**
 * `npm run reconcile` through the command kit, over in-memory fakes: `--since` checks, the dry run and question
 * before a sweep further back than the hourly run's window, and the live-mode confirmation.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSince, reconcileCommand } from "../../src/commands/reconcile.ts";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import { orderNumber } from "../../src/order/number.ts";
import type { Services } from "../../src/app/services.ts";
import { DEFAULT_WINDOW_SECONDS } from "../../src/reconcile/reconcile.ts";
import { fakeDeps, fakeServices } from "../support/fakes.ts";
import { checkoutSession, lineItem } from "../support/stripe-payloads.ts";
import { runScripted } from "../support/io.ts";

const LIVE = { STRIPE_SECRET_KEY: "sk_live_reconcile_command" };
const TEST = { STRIPE_SECRET_KEY: "sk_test_reconcile_command" };
const DAY_MS = 24 * 60 * 60 * 1000;

let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "linkshop-reconcile-"));
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

function setup() {
  const fakes = fakeDeps();
  const values = new Map<string, string>();
  const deps: Services = fakeServices(fakes, values);
  /** A paid session of this shop whose webhook never arrived, created `days` ago. */
  const missed = (days: number): SessionPayload => {
    const session = checkoutSession({
      created: Math.floor((fakes.clock.now - days * DAY_MS) / 1000),
    }) as unknown as SessionPayload;
    fakes.sessions.sessions.set(session.id, session);
    fakes.lineItems.items[session.id] = [
      lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
    ] as unknown as LineItemPayload[];
    return session;
  };
  const receipts = () => fakes.mailer.sent.filter((email) => email.to === "jenny@example.com");
  const reconcile = (argv: string[], env: Record<string, string> = TEST, answers?: boolean[]) =>
    runScripted(reconcileCommand, { argv, env, answers, cwd: project, connect: { services: () => deps } });
  /** No request of any kind reached Stripe, Redis or Resend. */
  const untouched = () => {
    expect(fakes.sessions.calls).toBe(0);
    expect(fakes.mailer.requests).toBe(0);
    expect(fakes.ledger.records.size).toBe(0);
    expect(values.size).toBe(0);
  };
  return { ...fakes, deps, missed, receipts, reconcile, untouched };
}

describe("parseSince", () => {
  const now = Date.parse("2026-12-04T20:00:00Z");
  it.each([
    ["36h", now / 1000 - 36 * 3600],
    ["7d", now / 1000 - 7 * 86_400],
    ["2026-03-01", Date.parse("2026-03-01T00:00:00Z") / 1000],
    ["2026-03-01T12:30:00+02:00", Date.parse("2026-03-01T10:30:00Z") / 1000],
  ])("%s", (value, expected) => {
    expect(parseSince(value, now)).toBe(expected);
  });

  it.each(["yesterday", "2026-02-30", "2026-13-01", "36m", "7 d", "2026-03-01T12:30", ""])(
    "refuses %j",
    (value) => {
      expect(parseSince(value, now)).toBeUndefined();
    },
  );
});

describe("reconcile --since", () => {
  it.each([
    ["yesterday", "use an ISO date (2026-03-01) or a duration (36h, 7d)"],
    ["2026-02-30", "use an ISO date"],
    ["2999-01-01", "that is not in the past"],
    ["0h", "that is not in the past"],
  ])("%s: exit 2 with the usage, before any request", async (since, message) => {
    const shop = setup();
    shop.missed(1);
    const run = await shop.reconcile(["--since", since]);
    expect(run.code).toBe(2);
    expect(run.err.join("\n")).toContain(`--since ${since}: ${message}`);
    expect(run.err.join("\n")).toContain("Usage: npm run reconcile");
    expect(shop.sessions.calls).toBe(0);
    expect(shop.mailer.requests).toBe(0);
  });

  it(`further back than ${DEFAULT_WINDOW_SECONDS / 86_400} days, without a terminal and without --yes: exit 2 before any request`, async () => {
    const shop = setup();
    shop.missed(20);
    const run = await shop.reconcile(["--since", "30d"]);
    expect(run.code).toBe(2);
    expect(run.err).toEqual([
      "Refusing to reconcile without a confirmation: --since reaches back 30 days, further than the hourly run's 7: " +
        "orders that old may get their first email only now. Nothing was done. Pass --yes to confirm (--dry-run " +
        "shows what would happen), or run it in a terminal to be asked.",
    ]);
    shop.untouched();
  });

  it("on a terminal, does a dry run, shows the orders with masked customers, asks, and sends on yes", async () => {
    const shop = setup();
    const old = [shop.missed(20), shop.missed(12)];
    const recent = shop.missed(1);
    const run = await shop.reconcile(["--since", "30d"], TEST, [true]);
    expect(run.code, run.text()).toBe(0);
    expect(run.questions).toEqual(["Go ahead?"]);
    // Newest first, as Stripe lists them.
    expect(run.err.slice(0, 5)).toEqual([
      "Careful: --since reaches back 30 days, further than the hourly run's 7: orders that old may get their first email only now.",
      "Fulfil 3 order(s): a receipt to each customer, and a notice to o***@shop.example for each.",
      ...[recent, ...[...old].reverse()].map(
        (session) => `  ${orderNumber(session.id)}  ${session.id}  receipt to j***@example.com`,
      ),
    ]);
    expect(run.text()).not.toContain("jenny@example.com");
    expect(shop.receipts()).toHaveLength(3);
    expect(run.out[0]).toMatch(/^Since .*: 3 sessions listed, 3 fulfilled now/);
  });

  it("answering no sends nothing and exits 1, after the dry run's reads", async () => {
    const shop = setup();
    shop.missed(20);
    const run = await shop.reconcile(["--since", "30d"], TEST, [false]);
    expect(run.code).toBe(1);
    expect(run.err.at(-1)).toBe("Answered no: nothing was done.");
    expect(shop.sessions.calls).toBeGreaterThan(0);
    expect(shop.mailer.requests).toBe(0);
    expect(shop.ledger.records.size).toBe(0);
  });

  it("--yes sends without asking; a window inside the hourly run's asks nothing", async () => {
    const shop = setup();
    shop.missed(20);
    expect((await shop.reconcile(["--since", "30d", "--yes"], TEST, [])).code).toBe(0);
    expect(shop.receipts()).toHaveLength(1);
    shop.missed(2);
    expect((await shop.reconcile(["--since", "3d"], TEST, [])).code).toBe(0);
    expect(shop.receipts()).toHaveLength(2);
  });

  it("a dry run never asks, whatever the window", async () => {
    const shop = setup();
    const old = shop.missed(20);
    const run = await shop.reconcile(["--since", "30d", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain(`  ${old.id}`);
    expect(shop.mailer.requests).toBe(0);
  });

  it("asks nothing when the dry run finds nothing to send", async () => {
    const shop = setup();
    const run = await shop.reconcile(["--since", "30d"], TEST, []);
    expect(run.code).toBe(0);
    expect(run.questions).toEqual([]);
  });
});

describe("reconcile with a live key", () => {
  it("without a terminal and without --live: exit 2 before any request", async () => {
    const shop = setup();
    shop.missed(1);
    const run = await shop.reconcile([], LIVE);
    expect(run.code).toBe(2);
    expect(run.err.join("\n")).toContain("the Stripe key is LIVE: this emails real customers");
    expect(run.err.join("\n")).toContain("Pass --live to confirm");
    shop.untouched();
  });

  it("a long window needs both flags without a terminal, and one question on it", async () => {
    const shop = setup();
    shop.missed(20);
    const refused = await shop.reconcile(["--since", "30d", "--live"], LIVE);
    expect(refused.code).toBe(2);
    expect(refused.err.join("\n")).toContain("Pass --yes to confirm");
    shop.untouched();

    const asked = await shop.reconcile(["--since", "30d"], LIVE, [true]);
    expect(asked.code).toBe(0);
    expect(asked.questions).toHaveLength(1);
    expect(asked.err.filter((line) => line.startsWith("Careful:"))).toHaveLength(2);
    expect(shop.receipts()).toHaveLength(1);
  });

  it("--live runs the pass without asking", async () => {
    const shop = setup();
    shop.missed(1);
    const run = await shop.reconcile(["--live"], LIVE, []);
    expect(run.code).toBe(0);
    expect(shop.receipts()).toHaveLength(1);
  });
});
