/**
 * What the drain records once a batch is answered, when the order's record did not stay still: a refund or dispute
 * while its emails waited (they are not sent), a change while the batch was out, a merchant's retry meanwhile. Every
 * accepted email is recorded on the order as it is then, so no path sends it again, and nothing is left listed as
 * waiting.
 */
import { describe, expect, it } from "vitest";
import { drainMail } from "../../src/fulfilment/mail.ts";
import { recordDispute } from "../../src/fulfilment/refunds.ts";
import type { BatchOutcome, MailJob } from "../../src/fulfilment/ports.ts";
import { type LedgerRecord, emptyRecord } from "../../src/order/ledger.ts";
import { fakeDeps } from "../support/fakes.ts";

const KEY = "cs_test_settle1";

const job = (slot: "receipt" | "notice", queuedAt: number): MailJob => ({
  id: `${slot}-${KEY}`,
  email: { to: `${slot}@example.com`, subject: slot, html: `<p>${slot}</p>`, text: slot },
  queuedAt,
  order: { key: KEY, slot },
});

/** An order queued as the webhook queues it: its record and both emails in one write. */
async function queuedOrder() {
  const fake = fakeDeps();
  const now = fake.clock.read();
  const record: LedgerRecord = {
    ...emptyRecord(KEY, now),
    state: "fulfilling",
    reason: "queued",
    queued: ["receipt", "notice"],
  };
  expect(
    await fake.ledger.put(KEY, "absent", record, { jobs: [job("receipt", now), job("notice", now + 1)] }),
  ).toBe(true);
  const drain = () => drainMail(fake.drainDeps, 20_000);
  return { ...fake, record, drain };
}

describe("settling a batch on an order that changed", () => {
  it("does not send the emails of an order refunded while they waited, and leaves none listed as waiting", async () => {
    const { ledger, record, drain, mailer } = await queuedOrder();
    expect(await ledger.put(KEY, "fulfilling", { ...record, state: "refunded" })).toBe(true);

    const summary = await drain();
    expect(mailer.sent).toEqual([]);
    expect(mailer.batches).toBe(0);
    expect(await ledger.get(KEY)).toMatchObject({ state: "refunded", queued: [], emails: {} });
    expect(summary).toMatchObject({ sent: 0, fulfilled: 0, failed: 0 });
  });

  it("sends them anyway once an attempt may have been accepted: the batch's key must name the same emails", async () => {
    const { ledger, record, drainDeps, mailer } = await queuedOrder();
    let attempts = 0;
    const sender = {
      async sendBatch(...args: Parameters<typeof mailer.sendBatch>): Promise<BatchOutcome> {
        if (attempts++ > 0) return mailer.sendBatch(...args);
        // No answer to the first attempt (Resend may have taken it), and the refund arrives before the retry.
        expect(await ledger.put(KEY, "fulfilling", { ...record, state: "refunded" })).toBe(true);
        return { kind: "failed", reason: "resend:network:application_error" };
      },
    };
    await drainMail({ ...drainDeps, sender }, 20_000);
    expect(attempts).toBe(2);
    expect(mailer.sent.map((email) => email.subject)).toEqual(["receipt", "notice"]);
    expect(await ledger.get(KEY)).toMatchObject({ state: "refunded", queued: [] });
  });

  it("applies the answers to the record as it is after the batch, when a dispute opened during the request", async () => {
    const { ledger, record, drainDeps, mailer } = await queuedOrder();
    const sender = {
      async sendBatch(...args: Parameters<typeof mailer.sendBatch>): Promise<BatchOutcome> {
        const answer = await mailer.sendBatch(...args);
        // The dispute is recorded while Resend is answering.
        expect(await ledger.put(KEY, "fulfilling", { ...record, state: "disputed" })).toBe(true);
        return answer;
      },
    };
    await drainMail({ ...drainDeps, sender }, 20_000);
    const after = await ledger.get(KEY);
    expect(after).toMatchObject({ state: "disputed", queued: [] });
    expect(after?.emails).toEqual({ receipt: mailer.sent[0]?.id, notice: mailer.sent[1]?.id });
  });

  it("a merchant's retry while the last email is out: that email is recorded, the retry sends only the other", async () => {
    const fake = fakeDeps();
    const { ledger, mailer, clock } = fake;
    // The receipt was refused for good (the order failed); its notice still waits.
    const failed: LedgerRecord = {
      ...emptyRecord(KEY, clock.read()),
      state: "failed",
      reason: "receipt:resend:422:validation_error",
      queued: ["notice"],
    };
    expect(await ledger.put(KEY, "absent", failed, { jobs: [job("notice", clock.read())] })).toBe(true);
    let retries = 0;
    const sender = {
      async sendBatch(...args: Parameters<typeof mailer.sendBatch>): Promise<BatchOutcome> {
        const answer = await mailer.sendBatch(...args);
        if (retries++ > 0) return answer;
        // While the answer travels back, the merchant fixes the address and retries: the order is sending again
        // with both emails listed; the notice, in flight, is not queued a second time.
        const retried: LedgerRecord = {
          ...failed,
          state: "fulfilling",
          reason: "queued",
          queued: ["receipt", "notice"],
        };
        const jobs = [job("receipt", clock.read()), job("notice", clock.read() + 1)];
        expect(await ledger.put(KEY, "failed", retried, { jobs })).toBe(true);
        return answer;
      },
    };
    // The notice's batch finds the order sending again: the notice is recorded on it, and the receipt the retry
    // queued goes out in the next batch of the same drain.
    expect(await drainMail({ ...fake.drainDeps, sender }, 20_000)).toMatchObject({ sent: 2, fulfilled: 1 });
    expect(await ledger.get(KEY)).toMatchObject({ state: "fulfilled", queued: [] });
    expect(mailer.sent.map((email) => email.subject)).toEqual(["notice", "receipt"]);
  });
});

describe("a dispute recorded while the drain settles the order's emails", () => {
  it("keeps what the drain recorded: its notice is added to the record as it is then", async () => {
    const { ledger, record, deps, drain, mailer } = await queuedOrder();
    expect(await ledger.put(KEY, "fulfilling", { ...record, paymentIntent: "pi_settle1" })).toBe(true);
    // The drain runs while the dispute's notice is being queued: it sends the receipt and notice and records them
    // on the (now disputed) order, between the dispute's two writes.
    const queue = deps.mailer;
    const mailerDuring = {
      async send(...args: Parameters<typeof queue.send>) {
        const queued = await queue.send(...args);
        await drain();
        return queued;
      },
    };
    const opened = await recordDispute(
      {
        disputeId: "dp_settle1",
        paymentIntent: "pi_settle1",
        currency: "usd",
        amount: 4010,
        reason: "fraudulent",
        status: "needs_response",
        closed: false,
        dueBy: undefined,
        livemode: false,
      },
      { ...deps, mailer: mailerDuring },
    );
    expect(opened).toMatchObject({ outcome: "fulfilled", reason: "dispute_opened" });
    // The drain withheld the disputed order's receipt and notice (nothing waits any more) and sent the dispute's
    // notice; the dispute's own record of that notice keeps the drain's change.
    expect(await ledger.get(KEY)).toMatchObject({
      state: "disputed",
      queued: [],
      emails: {},
      notices: ["dispute-dp_settle1-opened"],
    });
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]?.subject).toContain("Dispute opened");
  });
});
