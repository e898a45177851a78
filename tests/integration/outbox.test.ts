// The local outbox speaks Resend's wire format: driven here through the real resend SDK over HTTP on 127.0.0.1.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resend } from "resend";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Outbox, type OutboxOptions, startOutbox } from "../../dev/outbox.ts";
import { rawRequest } from "../support/http.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const receipt = {
  from: "Linkshop <orders@linkshop.test>",
  to: "ada@example.com",
  subject: "Your order #1042",
  html: "<p>Thanks for your order.</p>",
  text: "Thanks for your order.",
};

let dir: string;
let outbox: Outbox;
let resend: Resend;

async function start(options: OutboxOptions = {}): Promise<void> {
  outbox = await startOutbox({ dir, ...options });
  resend = new Resend("re_test_key", { baseUrl: outbox.url });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "outbox-test-"));
  await start();
});

afterEach(async () => {
  await outbox.close();
  await rm(dir, { recursive: true, force: true });
});

async function emailFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".json")).sort();
}

/** Decodes the five entities hono's escaping produces, as a browser does for an attribute value. */
function unescapeAttribute(value: string): string {
  return value
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

describe("sending", () => {
  it("accepts a single email, answers { id } and stores it in memory and as a file", async () => {
    const { data, error } = await resend.emails.send({
      ...receipt,
      replyTo: "help@linkshop.test",
      tags: [{ name: "category", value: "receipt" }],
    });

    expect(error).toBeNull();
    expect(data?.id).toMatch(UUID);
    const [stored, ...others] = outbox.emails();
    expect(others).toEqual([]);
    expect(stored).toMatchObject({
      id: data?.id,
      from: receipt.from,
      to: ["ada@example.com"],
      subject: receipt.subject,
      html: receipt.html,
      text: receipt.text,
      replyTo: ["help@linkshop.test"],
      tags: [{ name: "category", value: "receipt" }],
    });
    const files = await emailFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z-${data?.id}\\.json$`));
    expect(JSON.parse(await readFile(join(dir, files[0] ?? ""), "utf8"))).toEqual(stored);
  });

  it("accepts a batch, answers { data: [{ id }] } in order and stores every email", async () => {
    const { data, error } = await resend.batch.send([
      { ...receipt, to: ["ada@example.com"], subject: "First" },
      { ...receipt, to: ["grace@example.com", "alan@example.com"], subject: "Second" },
    ]);

    expect(error).toBeNull();
    const ids = data?.data.map((item) => item.id) ?? [];
    expect(ids).toHaveLength(2);
    expect(outbox.emails().map((email) => [email.id, email.subject, email.to])).toEqual([
      [ids[0], "First", ["ada@example.com"]],
      [ids[1], "Second", ["grace@example.com", "alan@example.com"]],
    ]);
    expect(await emailFiles()).toHaveLength(2);
  });

  it("answers GET /emails/:id like Resend's retrieve endpoint", async () => {
    const sent = await resend.emails.send(receipt);
    const { data, error } = await resend.emails.get(sent.data?.id ?? "");

    expect(error).toBeNull();
    expect(data).toMatchObject({
      object: "email",
      id: sent.data?.id,
      from: receipt.from,
      to: ["ada@example.com"],
      subject: receipt.subject,
      html: receipt.html,
      text: receipt.text,
    });
    const missing = await resend.emails.get("00000000-0000-4000-8000-000000000000");
    expect(missing.error).toMatchObject({ statusCode: 404, name: "not_found" });
  });

  it("lists stored emails oldest first at GET /api/emails", async () => {
    await resend.emails.send({ ...receipt, subject: "One" });
    await resend.emails.send({ ...receipt, subject: "Two" });

    const response = await fetch(`${outbox.url}/api/emails`);
    const body = (await response.json()) as { data: { subject: string }[] };
    expect(body.data.map((email) => email.subject)).toEqual(["One", "Two"]);
  });

  it("keeps emails across a restart on the same folder, and clear() forgets them", async () => {
    await resend.batch.send([
      { ...receipt, subject: "Kept 1" },
      { ...receipt, subject: "Kept 2" },
    ]);
    await outbox.close();
    await start();

    expect(outbox.emails().map((email) => email.subject)).toEqual(["Kept 1", "Kept 2"]);
    await resend.emails.send({ ...receipt, subject: "After restart" });
    expect(outbox.emails().map((email) => email.subject)).toEqual(["Kept 1", "Kept 2", "After restart"]);

    await outbox.clear();
    expect(outbox.emails()).toEqual([]);
    expect(await emailFiles()).toEqual([]);
  });

  it("listens on the port it was given, and close() frees it", async () => {
    const port = Number(new URL(outbox.url).port);
    await outbox.close();
    await start({ port });

    expect(outbox.url).toBe(`http://127.0.0.1:${port}`);
    expect((await resend.emails.send(receipt)).error).toBeNull();
  });
});

describe("idempotency keys", () => {
  it("answers a repeated key and payload with the first id and stores nothing new", async () => {
    const first = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_1" });
    const again = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_1" });

    expect(first.error).toBeNull();
    expect(again).toMatchObject({ data: { id: first.data?.id }, error: null });
    expect(outbox.emails()).toHaveLength(1);
    expect(outbox.emails()[0]?.idempotencyKey).toBe("receipt/cs_1");
  });

  it("replays a batch for a repeated key", async () => {
    const batch = [receipt, { ...receipt, subject: "Second" }];
    const first = await resend.batch.send(batch, { idempotencyKey: "batch/1" });
    const again = await resend.batch.send(batch, { idempotencyKey: "batch/1" });

    expect(again.data).toEqual(first.data);
    expect(outbox.emails()).toHaveLength(2);
  });

  it("refuses the same key with a different payload: 409 invalid_idempotent_request", async () => {
    await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_2" });
    const { data, error } = await resend.emails.send(
      { ...receipt, subject: "Something else" },
      { idempotencyKey: "receipt/cs_2" },
    );

    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    expect(outbox.emails().map((email) => email.subject)).toEqual([receipt.subject]);
  });

  it("shares keys between /emails and /emails/batch, so a key reused across them is a different payload", async () => {
    await resend.emails.send(receipt, { idempotencyKey: "shared" });
    const { error } = await resend.batch.send([receipt], { idempotencyKey: "shared" });

    expect(error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    expect(outbox.emails()).toHaveLength(1);
  });

  it("answers 409 concurrent_idempotent_requests while the first request with the key is in progress", async () => {
    const hold = outbox.holdNext();
    const first = resend.emails.send(receipt, { idempotencyKey: "receipt/cs_3" });
    await hold.arrived;

    const second = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_3" });
    expect(second.error).toMatchObject({ statusCode: 409, name: "concurrent_idempotent_requests" });

    hold.release();
    const { data, error } = await first;
    expect(error).toBeNull();
    const retry = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_3" });
    expect(retry.data?.id).toBe(data?.id);
    expect(outbox.emails().map((email) => email.id)).toEqual([data?.id]);
  });

  it("stores exactly one email when many requests race with one key", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => resend.emails.send(receipt, { idempotencyKey: "receipt/race" })),
    );

    const stored = outbox.emails();
    expect(stored).toHaveLength(1);
    for (const result of results) {
      if (result.error === null) expect(result.data.id).toBe(stored[0]?.id);
      else expect(result.error.name).toBe("concurrent_idempotent_requests");
    }
  });

  it("does not remember refused requests, so the key can be used once the payload is fixed", async () => {
    const refused = await resend.emails.send({ ...receipt, subject: "" }, { idempotencyKey: "receipt/cs_4" });
    const fixed = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_4" });

    expect(refused.error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(fixed.error).toBeNull();
    expect(outbox.emails()).toHaveLength(1);
  });

  it("forgets a key after 24 hours", async () => {
    let clock = new Date("2030-01-01T00:00:00.000Z");
    await outbox.close();
    await start({ now: () => clock });

    const first = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_5" });
    clock = new Date("2030-01-01T23:59:59.999Z");
    const withinDay = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_5" });
    clock = new Date("2030-01-02T00:00:00.000Z");
    const nextDay = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_5" });

    expect(withinDay.data?.id).toBe(first.data?.id);
    expect(nextDay.data?.id).toMatch(UUID);
    expect(nextDay.data?.id).not.toBe(first.data?.id);
    expect(outbox.emails()).toHaveLength(2);
  });

  it("refuses a key longer than 256 characters: 400 invalid_idempotency_key", async () => {
    const { error } = await resend.emails.send(receipt, { idempotencyKey: "k".repeat(257) });

    expect(error).toMatchObject({ statusCode: 400, name: "invalid_idempotency_key" });
    expect(outbox.emails()).toEqual([]);
  });
});

describe("failure injection", () => {
  it("answers 500 for the next sends, stores nothing, then accepts again", async () => {
    outbox.failNext(2, 500);

    const first = await resend.emails.send(receipt);
    const second = await resend.batch.send([receipt]);
    expect(first.error).toMatchObject({ statusCode: 500, name: "internal_server_error" });
    expect(second.error).toMatchObject({ statusCode: 500 });
    expect(outbox.emails()).toEqual([]);
    expect(await emailFiles()).toEqual([]);

    expect((await resend.emails.send(receipt)).error).toBeNull();
    expect(outbox.emails()).toHaveLength(1);
  });

  it("answers 429 with retry-after and ratelimit headers the SDK hands back", async () => {
    outbox.failNext(1, 429, { retryAfterSeconds: 7 });

    const { data, error, headers } = await resend.emails.send(receipt);
    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 429, name: "rate_limit_exceeded" });
    expect(headers).toMatchObject({ "retry-after": "7", "ratelimit-remaining": "0" });
    expect(outbox.emails()).toEqual([]);
  });

  it("defaults retry-after to 1 second for 429", async () => {
    outbox.failNext(1, 429);

    const { headers } = await resend.emails.send(receipt);
    expect(headers?.["retry-after"]).toBe("1");
  });

  it("answers 503 for a batch", async () => {
    outbox.failNext(1, 503);

    const { error } = await resend.batch.send([receipt]);
    expect(error).toMatchObject({ statusCode: 503 });
    expect(outbox.emails()).toEqual([]);
  });

  it("does not burn the idempotency key of a failed send, so its retry is stored", async () => {
    outbox.failNext(1, 503);

    const failed = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_6" });
    const retried = await resend.emails.send(receipt, { idempotencyKey: "receipt/cs_6" });
    expect(failed.error?.statusCode).toBe(503);
    expect(retried.error).toBeNull();
    expect(outbox.emails()).toHaveLength(1);
  });
});

describe("validation", () => {
  it.each([
    ["without a subject", { ...receipt, subject: undefined }, "subject"],
    ["without html or text", { ...receipt, html: undefined, text: undefined }, "html"],
    ["without recipients", { ...receipt, to: [] }, "to"],
    ["with a malformed from address", { ...receipt, from: "Linkshop orders" }, "from"],
    ["with a malformed tag", { ...receipt, tags: [{ name: "order id", value: "1" }] }, "Tags"],
  ])("refuses an email %s with 422 validation_error", async (_case, email, mentions) => {
    // The SDK's types would stop these at compile time; the wire must refuse them too.
    const { data, error } = await resend.emails.send(email as unknown as typeof receipt);

    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(error?.message).toContain(mentions);
    expect(outbox.emails()).toEqual([]);
  });

  it("refuses a whole batch when one email is invalid, naming its index", async () => {
    const { error } = await resend.batch.send([receipt, { ...receipt, subject: "" }]);

    expect(error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(error?.message).toMatch(/^emails\[1\]/);
    expect(outbox.emails()).toEqual([]);
  });

  it("in permissive batch mode stores the valid emails and lists the invalid ones", async () => {
    const { data, error } = await resend.batch.send([{ ...receipt, subject: "" }, receipt], {
      batchValidation: "permissive",
    });

    expect(error).toBeNull();
    expect(data?.data).toHaveLength(1);
    expect(data?.errors).toEqual([{ index: 0, message: expect.stringContaining("subject") }]);
    expect(outbox.emails().map((email) => email.id)).toEqual([data?.data[0]?.id]);
  });

  it("refuses a body that is not JSON with 400", async () => {
    const response = await fetch(`${outbox.url}/emails`, { method: "POST", body: "{not json" });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, name: "validation_error" });
  });

  it("refuses a body over 1 MiB with 413 and stores nothing", async () => {
    const { error } = await resend.emails.send({ ...receipt, html: "x".repeat(1024 * 1024) });

    expect(error).toMatchObject({ statusCode: 413 });
    expect(outbox.emails()).toEqual([]);
  });
});

describe("authentication", () => {
  beforeEach(async () => {
    await outbox.close();
    await start({ apiKey: "re_local_secret" });
  });

  it("answers 401 missing_api_key without an Authorization header", async () => {
    const response = await fetch(`${outbox.url}/emails`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(receipt),
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ statusCode: 401, name: "missing_api_key" });
    expect(outbox.emails()).toEqual([]);
  });

  it("answers 403 invalid_api_key, as Resend does, for a wrong key", async () => {
    const { error } = await resend.emails.send(receipt);

    expect(error).toMatchObject({ statusCode: 403, name: "invalid_api_key" });
    expect(outbox.emails()).toEqual([]);
  });

  it("accepts sends and retrievals with the right key", async () => {
    const authorised = new Resend("re_local_secret", { baseUrl: outbox.url });

    const sent = await authorised.emails.send(receipt);
    expect(sent.error).toBeNull();
    expect((await authorised.emails.get(sent.data?.id ?? "")).error).toBeNull();
    expect((await resend.emails.get(sent.data?.id ?? "")).error).toMatchObject({ statusCode: 403 });
  });
});

describe("outbox pages", () => {
  const hostile = {
    ...receipt,
    to: `Eve & "Co" <eve@example.com>`,
    subject: `Order <script>alert("subject")</script> & "more"`,
    html: `<p class="x">Hi &amp; welcome</p><script>alert('html')</script>`,
    text: "Plain <script>alert(1)</script> text",
  };

  it("lists emails newest first with time, recipients and a link to each", async () => {
    const older = await resend.emails.send({ ...receipt, subject: "Older" });
    const newer = await resend.emails.send({ ...receipt, subject: "Newer", to: ["grace@example.com"] });

    const response = await fetch(`${outbox.url}/`);
    const page = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(page).toMatch(/<html lang="en">/);
    expect(page).toMatch(/<title>Outbox - Linkshop<\/title>/);
    expect(page).toContain("<main>");
    expect(page).toContain('<th scope="col">Subject</th>');
    expect(page).toContain("grace@example.com");
    expect(page).toMatch(/<time datetime="\d{4}-\d{2}-\d{2}T[\d:.]+Z">/);
    const newerLink = page.indexOf(`href="/emails/${newer.data?.id}/view">Newer</a>`);
    const olderLink = page.indexOf(`href="/emails/${older.data?.id}/view">Older</a>`);
    expect(newerLink).toBeGreaterThan(-1);
    expect(olderLink).toBeGreaterThan(newerLink);
  });

  it("says so when there are no emails", async () => {
    const page = await (await fetch(`${outbox.url}/`)).text();

    expect(page).toContain("No emails yet");
    expect(page).not.toContain("<table>");
  });

  it("escapes everything from the email on the list and the view page", async () => {
    const { data, error } = await resend.emails.send(hostile);
    expect(error).toBeNull();

    const list = await (await fetch(`${outbox.url}/`)).text();
    const view = await (await fetch(`${outbox.url}/emails/${data?.id}/view`)).text();
    for (const page of [list, view]) {
      expect(page).not.toMatch(/<script/i);
      expect(page).toContain("Eve &amp; &quot;Co&quot; &lt;eve@example.com&gt;");
      expect(page).toContain(
        "Order &lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt; &amp; &quot;more&quot;",
      );
    }
    expect(view).toContain("<pre>Plain &lt;script&gt;alert(1)&lt;/script&gt; text</pre>");
  });

  it("renders the HTML in a sandboxed srcdoc frame that decodes back to the original", async () => {
    const { data, error } = await resend.emails.send(hostile);
    expect(error).toBeNull();

    const response = await fetch(`${outbox.url}/emails/${data?.id}/view`);
    const view = await response.text();
    const frame = /<iframe sandbox srcdoc="([^"]*)" title="[^"]+"><\/iframe>/.exec(view);
    expect(frame).not.toBeNull();
    expect(unescapeAttribute(frame?.[1] ?? "")).toBe(hostile.html);
    expect(view).toMatch(/<dt>From<\/dt><dd>Linkshop &lt;orders@linkshop\.test&gt;<\/dd>/);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("answers 404 for an unknown email", async () => {
    const response = await fetch(`${outbox.url}/emails/00000000-0000-4000-8000-000000000000/view`);

    expect(response.status).toBe(404);
    expect(await response.text()).toContain("Email not found");
  });
});

describe("the outbox's own pages", () => {
  it("answer only requests that name this machine: a rebound DNS name reads no email", async () => {
    await resend.emails.send({ ...receipt, to: "jenny@example.com" });
    const [stored] = outbox.emails();
    const paths = ["/", "/api/emails", `/emails/${stored?.id}/view`];
    for (const path of paths) {
      const local = await rawRequest(`${outbox.url}${path}`);
      expect(local.status, path).toBe(200);
      const rebound = await rawRequest(`${outbox.url}${path}`, {
        headers: { host: "shop-attacker.example:8025" },
      });
      expect(rebound.status, path).toBe(403);
      expect(rebound.body, path).not.toContain("jenny@example.com");
    }
  });
});
