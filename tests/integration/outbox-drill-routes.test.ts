/**
 * What a drill in another process reads from the outbox: the emails since a moment, and the limits with what they
 * refused (both for this machine only), driven by the real resend SDK over HTTP.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resend } from "resend";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Outbox, startOutbox } from "../../dev/outbox.ts";
import { rawRequest } from "../support/http.ts";

const email = (to: string) => ({
  from: "Linkshop <orders@linkshop.test>",
  to,
  subject: "Your order",
  text: "Thanks for your order.",
});

let dir: string;
let outbox: Outbox;
let clock: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "outbox-drill-"));
  clock = Date.UTC(2025, 0, 2, 12, 0, 0);
  outbox = await startOutbox({ dir, now: () => new Date(clock), requestsPerSecond: 1, dailyQuota: 2 });
});

afterEach(async () => {
  await outbox.close();
  await rm(dir, { recursive: true, force: true });
});

const listed = async (query = "") => {
  const response = await fetch(`${outbox.url}/api/emails${query}`);
  return { status: response.status, body: (await response.json()) as { data?: { to: string[] }[] } };
};

describe("GET /api/emails?since=", () => {
  it("lists only the emails created at or after the time given", async () => {
    const resend = new Resend("re_test", { baseUrl: outbox.url });
    await resend.emails.send(email("early@example.com"));
    clock += 5_000;
    const since = new Date(clock).toISOString();
    await resend.emails.send(email("late@example.com"));
    expect((await listed(`?since=${encodeURIComponent(since)}`)).body.data?.map((item) => item.to)).toEqual([
      ["late@example.com"],
    ]);
    expect((await listed()).body.data).toHaveLength(2);
  });

  it("refuses a time it cannot read", async () => {
    const { status } = await listed("?since=yesterday");
    expect(status).toBe(422);
  });
});

describe("GET /api/limits", () => {
  it("reports the limits and counts each kind of refusal", async () => {
    const resend = new Resend("re_test", { baseUrl: outbox.url });
    expect((await resend.emails.send(email("a@example.com"))).error).toBeNull();
    // A second request in the same second is over the rate.
    expect((await resend.emails.send(email("b@example.com"))).error?.name).toBe("rate_limit_exceeded");
    clock += 1_000;
    // Two emails in one batch on top of the one sent exceed the day's 2.
    const batch = await resend.batch.send([email("c@example.com"), email("d@example.com")]);
    expect(batch.error?.name).toBe("daily_quota_exceeded");
    const response = await fetch(`${outbox.url}/api/limits`);
    expect(await response.json()).toEqual({
      requestsPerSecond: 1,
      dailyQuota: 2,
      refusals: { rate_limit_exceeded: 1, daily_quota_exceeded: 1 },
    });
  });

  it("answers this machine only", async () => {
    const rebound = await rawRequest(`${outbox.url}/api/limits`, {
      headers: { host: "attacker.example:8025" },
    });
    expect(rebound.status).toBe(403);
  });
});
