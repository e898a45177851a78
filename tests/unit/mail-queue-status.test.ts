import { describe, expect, it } from "vitest";
import { mailQueueResult } from "../../src/commands/doctor/checks.ts";
import { queueLine } from "../../src/commands/orders.ts";
import { drainMail, mailLine } from "../../src/fulfilment/mail.ts";
import { fakeDeps } from "../support/fakes.ts";

const now = Date.parse("2026-12-04T18:30:00Z");
const empty = { waiting: 0, oldestQueuedAt: null, pausedUntil: null, inFlight: null };

describe("what the merchant sees of the mail queue", () => {
  it("doctor: empty is fine, a short wait is fine, a spent daily quota and a long wait are warnings", () => {
    expect(mailQueueResult(empty, now)).toMatchObject({ status: "ok" });
    expect(mailQueueResult({ ...empty, waiting: 4, oldestQueuedAt: now - 30_000 }, now)).toMatchObject({
      status: "ok",
      detail: "4 emails waiting, the oldest for 0 min: the drain sends them within a minute",
    });
    const paused = mailQueueResult(
      {
        ...empty,
        waiting: 12,
        oldestQueuedAt: now - 90 * 60_000,
        pausedUntil: Date.parse("2026-12-05T00:00:00Z"),
      },
      now,
    );
    expect(paused).toMatchObject({
      status: "warn",
      detail:
        "12 emails waiting, the oldest for 90 min; sending is paused until 2026-12-05T00:00:00.000Z: Resend's daily quota is spent",
    });
    expect(paused.fix).toContain("npm run orders");
    expect(
      mailQueueResult(
        {
          ...empty,
          waiting: 2,
          oldestQueuedAt: now - 15 * 60_000,
          inFlight: { attempts: 6, since: 0, notBefore: 0 },
        },
        now,
      ),
    ).toMatchObject({
      status: "warn",
      detail: "2 emails waiting, the oldest for 15 min (a batch tried 6 times)",
    });
  });

  it("orders: a line above the list says what waits and until when", () => {
    expect(queueLine(empty, now)).toBeUndefined();
    expect(queueLine({ ...empty, waiting: 1, oldestQueuedAt: now - 120_000 }, now)).toBe(
      'Mail queue: 1 email waiting (the oldest for 2 min); orders marked "queued" are paid and wait for them.',
    );
    expect(
      queueLine(
        { ...empty, waiting: 3, oldestQueuedAt: now, pausedUntil: Date.parse("2026-12-05T00:00:00Z") },
        now,
      ),
    ).toContain("paused until 2026-12-05T00:00:00.000Z (Resend's daily quota is spent)");
  });

  it("commands: one line on what a drain sent and why it stopped", () => {
    expect(mailLine({ requests: 1, sent: 2, fulfilled: 1, failed: 0, stopped: "empty" })).toBe(
      "2 emails sent",
    );
    expect(mailLine({ requests: 1, sent: 0, fulfilled: 0, failed: 0, stopped: "paused" })).toContain(
      "daily quota is spent",
    );
  });
});

describe("a drain", () => {
  it("ends even when its clock stands still while it waits for the request budget", async () => {
    const { queue, drainDeps, clock } = fakeDeps();
    await queue.enqueue([
      { id: "a", email: { to: "a@example.com", subject: "A", html: "a", text: "a" }, queuedAt: 0 },
    ]);
    queue.lastSendAt = clock.now;
    let waits = 0;
    const stuck = { ...drainDeps, spacingMs: 500, wait: async () => void waits++ };
    expect(await drainMail(stuck, 20_000)).toMatchObject({ requests: 0, stopped: "deadline" });
    expect(waits).toBeGreaterThan(0);
  });
});
