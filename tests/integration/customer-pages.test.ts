/**
 * The customer's pages over real HTTP and a real Redis (through the Upstash bridge), with Stripe's emulator and the
 * outbox: a sign-in request answers the same bytes whether or not the address bought, the budgets hold under
 * concurrent requests, the orders page shows the customer's orders and nobody else's, a receipt goes out at most
 * once per order and hour.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customerHash } from "../../src/order/customers.ts";
import { orderNumber } from "../../src/order/number.ts";
import { signInGrant, signSignIn } from "../../src/order/sign-in.ts";
import { CLIENT_HEADER, type CustomerShop, signInLink, startCustomerShop } from "../support/customer.ts";

let shop: CustomerShop;
const SIGN_IN = "sign-in link";

const address = () => `buyer-${randomUUID().slice(0, 8)}@example.com`;
const client = () => `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID()}`;

function askForLink(email: string, from = client()): Promise<Response> {
  return fetch(`${shop.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", [CLIENT_HEADER]: from },
    body: new URLSearchParams({ email }).toString(),
  });
}

/**
 * The address budget counts in clock hours (fixed windows): a burst that straddles the turn of the hour is counted
 * in two of them. A test that spends a whole budget starts, if the hour turns within the next 15 s, after it.
 */
async function clearOfHourTurn(): Promise<void> {
  const left = 3_600_000 - (Date.now() % 3_600_000);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/** Signs in as `email` the way a customer does: asks, reads the email, returns the link. */
async function signIn(email: string): Promise<string> {
  const before = shop.emailsTo(email, SIGN_IN).length;
  expect((await askForLink(email)).status).toBe(200);
  await shop.settle();
  const emails = shop.emailsTo(email, SIGN_IN);
  expect(emails).toHaveLength(before + 1);
  return signInLink(emails.at(-1)?.text ?? "");
}

beforeAll(async () => {
  shop = await startCustomerShop();
}, 60_000);

afterAll(async () => {
  await shop?.stop();
});

describe("asking for a sign-in link", () => {
  it("answers an address with orders and one without in the same status, headers and bytes", async () => {
    const known = address();
    await shop.buy(known);
    const unknown = address();
    const [a, b] = await Promise.all([askForLink(known), askForLink(unknown)]);
    const headers = (response: Response) => [...response.headers].filter(([name]) => name !== "date");
    expect(a.status).toBe(200);
    expect(b.status).toBe(a.status);
    expect(headers(b)).toEqual(headers(a));
    const [bodyA, bodyB] = [await a.text(), await b.text()];
    expect(bodyB).toBe(bodyA);
    expect(bodyA).toContain("a sign-in link is on its way");
    await shop.settle();
    // Only the customer gets an email; the page said nothing of it.
    expect(shop.emailsTo(known, SIGN_IN)).toHaveLength(1);
    expect(shop.emailsTo(unknown, SIGN_IN)).toHaveLength(0);
    const email = shop.emailsTo(known, SIGN_IN)[0];
    expect(email?.text).toContain("30 minutes");
    expect(signInLink(email?.text ?? "")).toMatch(new RegExp(`^${shop.url}/orders/`));
  });

  it("sends at most 3 links per address and hour, from 20 concurrent requests of different clients", async () => {
    await clearOfHourTurn();
    const email = address();
    await shop.buy(email);
    const answers = await Promise.all(Array.from({ length: 20 }, () => askForLink(email)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(17);
    const refused = answers.find((answer) => answer.status === 429);
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused?.text()).toContain("Please try again later");
    await shop.settle();
    expect(shop.emailsTo(email, SIGN_IN)).toHaveLength(3);
  });

  it("counts the address's budget whether or not it has orders", async () => {
    await clearOfHourTurn();
    const email = address();
    const answers = await Promise.all(Array.from({ length: 5 }, () => askForLink(email)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 429, 429]);
  });

  it("answers a client 10 times an hour, then asks it to try later and sends nothing", async () => {
    const from = client();
    const customers = Array.from({ length: 20 }, () => address());
    await shop.buy(customers[0] as string);
    const answers = await Promise.all(customers.map((email) => askForLink(email, from)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
    await shop.settle();
    const sent = customers.flatMap((email) => shop.emailsTo(email, SIGN_IN));
    const first = statuses[0] === 200 ? 1 : 0;
    expect(sent).toHaveLength(first);
  });

  it("refuses a form another website made the browser send (400), before any budget or store command", async () => {
    const email = address();
    await shop.buy(email);
    const commands = shop.local.bridge.commands();
    const answer = await fetch(`${shop.url}/orders`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "cross-site",
        [CLIENT_HEADER]: client(),
      },
      body: new URLSearchParams({ email }).toString(),
    });
    expect(answer.status).toBe(400);
    const body = await answer.text();
    expect(body).toContain("This request came from another website, so nothing was sent.");
    expect(body).toContain('<form method="post" action="/orders"');
    expect(shop.local.bridge.commands()).toBe(commands);
    await shop.settle();
    expect(shop.emailsTo(email, SIGN_IN)).toHaveLength(0);
    // The same form from the shop's own page goes through.
    expect((await askForLink(email)).status).toBe(200);
    await shop.settle();
  });

  it("reads no more than a small form: a larger body is refused (400) without a store command", async () => {
    const commands = shop.local.bridge.commands();
    const answer = await fetch(`${shop.url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", [CLIENT_HEADER]: client() },
      body: new URLSearchParams({ email: address(), padding: "x".repeat(64 * 1024) }).toString(),
    });
    expect(answer.status).toBe(400);
    expect(shop.local.bridge.commands()).toBe(commands);
  });

  it("shows the form again for something that is not an address (400), and sends nothing", async () => {
    const answer = await askForLink("not an address<script>");
    expect(answer.status).toBe(400);
    const body = await answer.text();
    expect(body).toContain('aria-invalid="true"');
    expect(body).toContain("not an address&lt;script&gt;");
    expect(body).not.toContain("<script>");
  });
});

describe("the orders page", () => {
  it("lists the customer's orders newest first, with downloads, and nothing of another customer", async () => {
    const jenny = address();
    const other = address();
    const first = await shop.buy(jenny, ["trail-maps"]);
    const theirs = await shop.buy(other, ["trail-maps"]);
    const second = await shop.buy(jenny.toUpperCase(), ["camp-mug"]);
    const link = await signIn(jenny);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const body = await page.text();
    const [a, b] = [body.indexOf(orderNumber(second)), body.indexOf(orderNumber(first))];
    expect(a).toBeGreaterThan(-1);
    expect(b).toBeGreaterThan(a);
    expect(body).not.toContain(orderNumber(theirs));
    expect(body).not.toContain(theirs);
    expect(body).toContain("$9.00");
    expect(body).toContain("Paid");
    expect(body).toContain("Download trail-maps.pdf");
    expect(body.match(/Email me this receipt again/g)).toHaveLength(2);
    // The download button is a link to the download page, which opens.
    const download = /href="([^"]+\/download\/[^"]+)"/.exec(body)?.[1] ?? "";
    expect((await fetch(download.replaceAll("&amp;", "&"))).status).toBe(200);
  });

  it("offers no files for a refunded order", async () => {
    const email = address();
    const sessionId = await shop.buy(email);
    const record = await shop.shop.ledger.get(sessionId);
    if (!record) throw new Error("no record");
    await shop.shop.ledger.put(sessionId, "fulfilled", { ...record, state: "refunded" });
    const body = await (await fetch(await signIn(email))).text();
    expect(body).toContain(orderNumber(sessionId));
    expect(body).toContain("Refunded");
    expect(body).not.toContain("/download/");
    expect(body).not.toContain("Email me this receipt again");
  });

  it("answers a forged link 400 and an expired one 410, each with the form for a new link", async () => {
    const secret = shop.local.env.LINKSHOP_DOWNLOAD_SECRET;
    const customer = customerHash(address(), secret);
    const expired = signSignIn(signInGrant(customer, Date.now() - 31 * 60_000), secret);
    const forged = signSignIn(signInGrant(customer, Date.now()), `${secret}-not`);
    const [gone, bad] = await Promise.all([
      fetch(`${shop.url}/orders/${expired}`),
      fetch(`${shop.url}/orders/${forged}`),
    ]);
    expect(gone.status).toBe(410);
    expect(bad.status).toBe(400);
    for (const body of [await gone.text(), await bad.text()]) {
      expect(body).toContain('<form method="post" action="/orders"');
      expect(body).toContain("Email me a sign-in link");
    }
  });
});

describe("email me this receipt again", () => {
  const resend = (link: string, session: string) =>
    fetch(link, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ session }).toString(),
    });

  it("sends the receipt once per order and hour, and never for another customer's order", async () => {
    const email = address();
    const other = address();
    const sessionId = await shop.buy(email);
    const theirs = await shop.buy(other);
    const link = await signIn(email);
    const receipt = `order ${orderNumber(sessionId)}`;
    expect(shop.emailsTo(email, receipt)).toHaveLength(1);

    const sent = await resend(link, sessionId);
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain("is on its way");
    await shop.settle();
    const receipts = shop.emailsTo(email, receipt);
    expect(receipts).toHaveLength(2);
    expect(receipts[1]?.text).toContain("/download/");

    const again = await resend(link, sessionId);
    expect(again.status).toBe(429);
    expect(await again.text()).toContain("within the last hour");
    await shop.settle();
    expect(shop.emailsTo(email, receipt)).toHaveLength(2);

    const stranger = await resend(link, theirs);
    expect(stranger.status).toBe(409);
    await shop.settle();
    expect(shop.emailsTo(other, `order ${orderNumber(theirs)}`)).toHaveLength(1);
    expect(shop.emailsTo(email, orderNumber(theirs))).toHaveLength(0);
  });
});
