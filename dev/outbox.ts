// Local Resend-compatible outbox: accepts sends from the `resend` SDK, keeps them as files and shows them in a browser.
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { html, raw } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { isLocalHost } from "./local-host.ts";

/** How to start an outbox. */
export interface OutboxOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Folder that holds one JSON file per email; default `.outbox` under `process.cwd()`. Created if missing. */
  dir?: string;
  /** When set, the Resend API routes require `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Clock for `createdAt` and idempotency-key expiry; tests pass a fake one. Default: the system clock. */
  now?: () => Date;
  /**
   * Sending domains `GET /domains` lists as verified, as Resend does for a verified domain (the outbox itself
   * accepts any sender). Default: none.
   */
  verifiedDomains?: string[];
  /** Requests per second it accepts, as Resend limits a team (429 `rate_limit_exceeded` above). Default: no limit. */
  requestsPerSecond?: number;
  /**
   * Emails per UTC day it accepts, as Resend's free plan does (100): 429 `daily_quota_exceeded` beyond, until the
   * next UTC midnight of the outbox's clock. Default: no quota.
   */
  dailyQuota?: number;
}

/** Limits like Resend's; `undefined` lifts one. */
export interface OutboxLimits {
  requestsPerSecond?: number | undefined;
  dailyQuota?: number | undefined;
}

/** One accepted email, as kept in memory and written to `<dir>/<createdAt>-<id>.json`. */
export interface StoredEmail {
  id: string;
  /** ISO 8601, unique and increasing within one outbox, so it orders emails. */
  createdAt: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  headers?: Record<string, string>;
  tags?: { name: string; value: string }[];
  idempotencyKey?: string;
}

/** Send-request failures to inject, for tests and outage drills. */
export interface FailNextOptions {
  /** Seconds sent in `retry-after`: always for 429 (default 1), for 500/503 only when given. */
  retryAfterSeconds?: number;
}

/** Pauses one send request after it was accepted and before it is stored (see `Outbox.holdNext`). */
export interface OutboxHold {
  /** Resolves once a send request is waiting at the hold (its idempotency key is then "in progress"). */
  arrived: Promise<void>;
  /** Lets the held request go on; safe to call more than once, or before it arrived. */
  release(): void;
}

/** A running outbox. */
export interface Outbox {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:54321`; use it as RESEND_BASE_URL. */
  url: string;
  /** Stops listening and waits for emails being written; open keep-alive connections are dropped. */
  close(): Promise<void>;
  /** Emails accepted so far, oldest first (read from memory; files mirror them). */
  emails(): StoredEmail[];
  /**
   * Failure injection for tests and outage drills: the next `count` send requests (/emails or /emails/batch)
   * answer `status` with a Resend-shaped error body; 429 also carries `retry-after` (seconds, default 1) and
   * ratelimit headers. Accepts nothing while failing. A new call replaces what is left of the previous one;
   * `count` 0 cancels.
   */
  failNext(count: number, status: 429 | 500 | 503, options?: FailNextOptions): void;
  /**
   * Holds the next send request that gets past validation until `release()`, so tests can observe an idempotency
   * key while its first request is still in progress.
   */
  holdNext(): OutboxHold;
  /** Replaces the rate limit and daily quota (for drills and tests); the day's count is kept. */
  setLimits(limits: OutboxLimits): void;
  /** Requests refused by the rate limit or the quota so far, by error name. */
  refusals(): { rate_limit_exceeded: number; daily_quota_exceeded: number };
  /** Forgets stored emails (memory and files), idempotency keys and pending failures - for tests. */
  clear(): Promise<void>;
}

/** Error body in Resend's shape; the SDK hands it back unchanged as `error`. */
interface ResendError {
  statusCode: number;
  name: string;
  message: string;
}

/** What a send answers; kept per idempotency key to replay. */
interface SendResult {
  status: ContentfulStatusCode;
  body:
    ResendError | { id: string } | { data: { id: string }[]; errors?: { index: number; message: string }[] };
}

/** A validated send: its answer and the emails to store (none when it was refused). */
interface Accepted {
  result: SendResult;
  emails: StoredEmail[];
}

/** An idempotency key while its first request runs, and afterwards with the response to replay. */
type KeyRecord =
  | { state: "in_progress"; fingerprint: string }
  | { state: "done"; fingerprint: string; result: SendResult; expiresAt: number };

const MAX_BODY_BYTES = 1024 * 1024;
/** Resend keeps idempotency keys for 24 hours; milliseconds. */
const KEY_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_KEY_LENGTH = 256;
const MAX_RECIPIENTS = 50;
const MAX_BATCH = 100;
const FILE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f-]{36}\.json$/;

// --- validation of what the SDK sends (snake_case wire format) ---

const ADDRESS = /^[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+$/;
const NAMED_ADDRESS = /^[^<>]*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>$/;
const isAddress = (value: string): boolean => ADDRESS.test(value.trim()) || NAMED_ADDRESS.test(value.trim());
const ADDRESS_HINT = "use `email@example.com` or `Name <email@example.com>`";

const addressList = (field: string, max: number) =>
  v.pipe(
    v.union(
      [v.string(), v.array(v.string())],
      `Invalid \`${field}\` field: expected a string or an array of strings.`,
    ),
    v.transform((value) => (Array.isArray(value) ? value : [value])),
    v.check((list) => list.every(isAddress), `Invalid \`${field}\` field: ${ADDRESS_HINT}.`),
    v.check((list) => list.length <= max, `Invalid \`${field}\` field: at most ${max} addresses.`),
  );

const TAG_PART = v.pipe(
  v.string("Tag names and values must be strings."),
  v.regex(/^[A-Za-z0-9_-]{1,256}$/, "Tags may only contain ASCII letters, numbers, underscores or dashes."),
);

const EmailRequest = v.pipe(
  v.object(
    {
      from: v.pipe(
        v.string("Missing `from` field."),
        v.check(isAddress, `Invalid \`from\` field: ${ADDRESS_HINT}.`),
      ),
      to: v.pipe(
        addressList("to", MAX_RECIPIENTS),
        v.check((list) => list.length > 0, "Missing `to` field."),
      ),
      subject: v.pipe(v.string("Missing `subject` field."), v.nonEmpty("Missing `subject` field.")),
      html: v.optional(v.string("Invalid `html` field: expected a string.")),
      text: v.optional(v.string("Invalid `text` field: expected a string.")),
      cc: v.optional(addressList("cc", MAX_RECIPIENTS)),
      bcc: v.optional(addressList("bcc", MAX_RECIPIENTS)),
      reply_to: v.optional(addressList("reply_to", MAX_RECIPIENTS)),
      headers: v.optional(
        v.record(v.string(), v.string(), "Invalid `headers` field: expected string values."),
      ),
      tags: v.optional(v.array(v.object({ name: TAG_PART, value: TAG_PART }), "Invalid `tags` field.")),
      attachments: v.optional(v.array(v.unknown(), "Invalid `attachments` field.")),
      scheduled_at: v.optional(v.string("Invalid `scheduled_at` field.")),
    },
    // A missing key reports on the object with the key in its path; anything else is "not an object".
    (issue) => {
      const key = issue.path?.at(-1)?.key;
      return typeof key === "string" ? `Missing \`${key}\` field.` : "Expected an email to be a JSON object.";
    },
  ),
  v.check(
    (email) => email.html !== undefined || email.text !== undefined,
    "Missing `html` or `text` field: an email needs content.",
  ),
);
type EmailRequest = v.InferOutput<typeof EmailRequest>;

/** Mirrors StoredEmail, to trust files read back from disk. */
const StoredEmailFile = v.object({
  id: v.string(),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
  from: v.string(),
  to: v.array(v.string()),
  subject: v.string(),
  html: v.optional(v.string()),
  text: v.optional(v.string()),
  cc: v.optional(v.array(v.string())),
  bcc: v.optional(v.array(v.string())),
  replyTo: v.optional(v.array(v.string())),
  headers: v.optional(v.record(v.string(), v.string())),
  tags: v.optional(v.array(v.object({ name: v.string(), value: v.string() }))),
  idempotencyKey: v.optional(v.string()),
});

/** Validates one email; on failure returns Resend-style message text. */
function parseEmail(input: unknown): { ok: true; email: EmailRequest } | { ok: false; message: string } {
  const parsed = v.safeParse(EmailRequest, input, { abortPipeEarly: true });
  if (parsed.success) return { ok: true, email: parsed.output };
  return { ok: false, message: parsed.issues[0].message };
}

// --- helpers ---

const fail = (statusCode: number, name: string, message: string): ResendError => ({
  statusCode,
  name,
  message,
});

/** Serialises JSON with sorted object keys, so equal payloads fingerprint equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const fileNameOf = (email: StoredEmail): string =>
  `${email.createdAt.replace(/[:.]/g, "-")}-${email.id}.json`;

const byCreatedAt = (a: StoredEmail, b: StoredEmail): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;

/** Resend's retrieve-email shape (GET /emails/:id). */
function toRetrieveResponse(email: StoredEmail) {
  return {
    object: "email",
    id: email.id,
    from: email.from,
    to: email.to,
    subject: email.subject,
    html: email.html ?? null,
    text: email.text ?? null,
    cc: email.cc ?? null,
    bcc: email.bcc ?? null,
    reply_to: email.replyTo ?? null,
    tags: email.tags ?? [],
    created_at: email.createdAt,
    scheduled_at: null,
    last_event: "sent",
  };
}

// --- web pages (hono's `html` escapes every interpolated value) ---

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; }
  header, main { max-width: 64rem; margin: 0 auto; padding: 1rem 1.5rem; }
  header { border-bottom: 1px solid #ddd; }
  h1 { font-size: 1.5rem; margin: 0.5rem 0; overflow-wrap: anywhere; }
  table { width: 100%; border-collapse: collapse; background: #fff; }
  caption { text-align: left; padding: 0.5rem 0; color: #444; }
  th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; overflow-wrap: anywhere; }
  a { color: #0b57d0; }
  a:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
  iframe { width: 100%; height: 70vh; border: 1px solid #ccc; background: #fff; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid #ccc; padding: 1rem; }
`;

/** Blocks scripts on the pages and in the srcdoc frame (which inherits this policy); allows email images. */
const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function page(title: string, body: unknown) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>`;
}

/** "2025-01-02 03:04:05 UTC": readable and unambiguous without knowing the viewer's zone. */
const readableTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

function listPage(emails: StoredEmail[]) {
  const newestFirst = [...emails].reverse();
  const rows = newestFirst.map(
    (email) => html`<tr>
<td><time datetime="${email.createdAt}">${readableTime(email.createdAt)}</time></td>
<td>${email.to.join(", ")}</td>
<td><a href="/emails/${encodeURIComponent(email.id)}/view">${email.subject}</a></td>
</tr>`,
  );
  const count = emails.length === 1 ? "1 email" : `${emails.length} emails`;
  const content =
    emails.length === 0
      ? html`<p>No emails yet. Emails the shop sends appear here instead of being delivered.</p>`
      : html`<table>
<caption>${count}, newest first</caption>
<thead><tr><th scope="col">Sent</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
  return page(
    "Outbox - Linkshop",
    html`<header><h1>Outbox</h1><p>Emails captured locally; none of them left this machine.</p></header>
<main>${content}</main>`,
  );
}

function viewPage(email: StoredEmail) {
  const detail = (label: string, value: string | undefined) =>
    value === undefined || value === "" ? "" : html`<dt>${label}</dt><dd>${value}</dd>`;
  const tags = email.tags?.map((tag) => `${tag.name}=${tag.value}`).join(", ");
  // srcdoc holds the email's HTML as an attribute value: escaping it once makes the browser decode it back to
  // exactly the original markup, and the empty sandbox keeps its scripts, forms and same-origin access off.
  const htmlPart =
    email.html === undefined
      ? html`<p>This email has no HTML version.</p>`
      : html`<iframe sandbox srcdoc="${email.html}" title="HTML version of the email"></iframe>`;
  const textPart =
    email.text === undefined ? html`<p>This email has no text version.</p>` : html`<pre>${email.text}</pre>`;
  return page(
    `${email.subject} - Outbox - Linkshop`,
    html`<header>
<nav aria-label="Outbox"><a href="/">Back to the outbox</a></nav>
<h1>${email.subject}</h1>
</header>
<main>
<section aria-labelledby="headers-heading">
<h2 id="headers-heading">Headers</h2>
<dl>
${detail("From", email.from)}
${detail("To", email.to.join(", "))}
${detail("Cc", email.cc?.join(", "))}
${detail("Bcc", email.bcc?.join(", "))}
${detail("Reply-To", email.replyTo?.join(", "))}
${detail("Subject", email.subject)}
<dt>Sent</dt><dd><time datetime="${email.createdAt}">${readableTime(email.createdAt)}</time></dd>
${detail("Tags", tags)}
${detail("Idempotency key", email.idempotencyKey)}
${detail("Email ID", email.id)}
</dl>
</section>
<section aria-labelledby="html-heading">
<h2 id="html-heading">HTML version</h2>
${htmlPart}
</section>
<section aria-labelledby="text-heading">
<h2 id="text-heading">Text version</h2>
${textPart}
</section>
</main>`,
  );
}

// --- the server ---

/** Starts an outbox on 127.0.0.1, loading emails left in `dir` by earlier runs. */
export async function startOutbox(options: OutboxOptions = {}): Promise<Outbox> {
  const dir = resolve(options.dir ?? join(process.cwd(), ".outbox"));
  const now = options.now ?? (() => new Date());
  const apiKey = options.apiKey;

  await mkdir(dir, { recursive: true });
  const stored: StoredEmail[] = await loadEmails(dir);
  const keys = new Map<string, KeyRecord>();
  const writes = new Set<Promise<unknown>>();
  const holds: { arrive: () => void; released: Promise<void> }[] = [];
  let failure:
    { remaining: number; status: 429 | 500 | 503; retryAfterSeconds: number | undefined } | undefined;
  let lastCreatedMs = stored.reduce((max, email) => Math.max(max, Date.parse(email.createdAt)), 0);
  let limits: OutboxLimits = { requestsPerSecond: options.requestsPerSecond, dailyQuota: options.dailyQuota };
  /** Arrival times (ms) of the send requests of the last second. */
  let recent: number[] = [];
  /** Emails accepted on the UTC day `quotaDay`. */
  let quotaDay = "";
  let quotaUsed = 0;
  const refused = { rate_limit_exceeded: 0, daily_quota_exceeded: 0 };

  /** Refuses a request over the per-second limit, as Resend does; counts it otherwise. */
  function rateLimited(c: Context): Response | undefined {
    const limit = limits.requestsPerSecond;
    if (limit === undefined) return undefined;
    const at = now().getTime();
    recent = recent.filter((time) => time > at - 1000);
    if (recent.length < limit) {
      recent.push(at);
      return undefined;
    }
    refused.rate_limit_exceeded++;
    c.header("retry-after", "1");
    c.header("ratelimit-limit", String(limit));
    c.header("ratelimit-remaining", "0");
    c.header("ratelimit-reset", "1");
    const message = `Too many requests. You can only make ${limit} requests per second. See rate limit response headers for more information.`;
    return c.json(fail(429, "rate_limit_exceeded", message), 429);
  }

  /** Counts `count` emails against the day's quota, or refuses them all (nothing is counted then). */
  function overQuota(c: Context, count: number): Response | undefined {
    const quota = limits.dailyQuota;
    if (quota === undefined) return undefined;
    const today = now().toISOString().slice(0, 10);
    if (today !== quotaDay) {
      quotaDay = today;
      quotaUsed = 0;
    }
    if (quotaUsed + count <= quota) {
      quotaUsed += count;
      return undefined;
    }
    refused.daily_quota_exceeded++;
    const midnight = Date.parse(`${today}T00:00:00.000Z`) + 24 * 60 * 60 * 1000;
    c.header("retry-after", String(Math.ceil((midnight - now().getTime()) / 1000)));
    return c.json(fail(429, "daily_quota_exceeded", "You have reached your daily email sending quota."), 429);
  }

  /** createdAt strictly increases, so file names sort in acceptance order even within one millisecond. */
  function nextCreatedAt(): string {
    lastCreatedMs = Math.max(now().getTime(), lastCreatedMs + 1);
    return new Date(lastCreatedMs).toISOString();
  }

  function toStored(email: EmailRequest, idempotencyKey: string | undefined): StoredEmail {
    return {
      id: randomUUID(),
      createdAt: nextCreatedAt(),
      from: email.from,
      to: email.to,
      subject: email.subject,
      ...(email.html !== undefined && { html: email.html }),
      ...(email.text !== undefined && { text: email.text }),
      ...(email.cc !== undefined && { cc: email.cc }),
      ...(email.bcc !== undefined && { bcc: email.bcc }),
      ...(email.reply_to !== undefined && { replyTo: email.reply_to }),
      ...(email.headers !== undefined && { headers: email.headers }),
      ...(email.tags !== undefined && { tags: email.tags }),
      ...(idempotencyKey !== undefined && { idempotencyKey }),
    };
  }

  /** Writes the emails' files (each atomically via rename), then makes them visible in memory. */
  async function persist(emails: StoredEmail[]): Promise<void> {
    const write = (async () => {
      const results = await Promise.allSettled(
        emails.map(async (email) => {
          const file = join(dir, fileNameOf(email));
          await writeFile(`${file}.tmp`, `${JSON.stringify(email, null, 2)}\n`);
          await rename(`${file}.tmp`, file);
        }),
      );
      if (results.some((result) => result.status === "rejected")) {
        const files = emails.map((email) => join(dir, fileNameOf(email)));
        await Promise.all(
          files.flatMap((file) => [rm(file, { force: true }), rm(`${file}.tmp`, { force: true })]),
        );
        throw new Error("outbox: could not write email files");
      }
      stored.push(...emails);
    })();
    writes.add(write);
    try {
      await write;
    } finally {
      writes.delete(write);
    }
  }

  function injectedFailure(c: Context): Response | undefined {
    if (failure === undefined || failure.remaining <= 0) return undefined;
    failure.remaining -= 1;
    const { status, retryAfterSeconds } = failure;
    if (failure.remaining === 0) failure = undefined;
    if (status === 429) {
      const seconds = String(retryAfterSeconds ?? 1);
      c.header("retry-after", seconds);
      c.header("ratelimit-limit", "5");
      c.header("ratelimit-remaining", "0");
      c.header("ratelimit-reset", seconds);
      return c.json(
        fail(429, "rate_limit_exceeded", "Too many requests. You can only make 5 requests per second."),
        429,
      );
    }
    if (retryAfterSeconds !== undefined) c.header("retry-after", String(retryAfterSeconds));
    return status === 500
      ? c.json(fail(500, "internal_server_error", "An unexpected error occurred."), 500)
      : c.json(fail(503, "application_error", "The service is temporarily unavailable."), 503);
  }

  /** Stores what a send accepted (after any test hold) and gives the response to send back. */
  async function store(accepted: Accepted): Promise<SendResult> {
    if (accepted.emails.length > 0) {
      const hold = holds.shift();
      if (hold !== undefined) {
        hold.arrive();
        await hold.released;
      }
      await persist(accepted.emails);
    }
    return accepted.result;
  }

  /**
   * Runs one send under Resend's idempotency rules. Keys share one space across /emails and /emails/batch; the
   * fingerprint covers the endpoint too, so reusing a key on the other endpoint counts as a different payload
   * (409). Only successes are remembered: after a validation or storage error the same key may be retried.
   */
  async function send(
    c: Context,
    endpoint: string,
    payload: unknown,
    accept: (key: string | undefined) => Accepted,
  ): Promise<Response> {
    // A request that would send more than the day's quota allows is refused whole; a replay of a key sends nothing.
    const count = Array.isArray(payload) ? payload.length : 1;
    const key = c.req.header("idempotency-key");
    if (key === undefined) {
      const quota = overQuota(c, count);
      if (quota) return quota;
      const result = await store(accept(undefined));
      return c.json(result.body, result.status);
    }
    if (key.length < 1 || key.length > MAX_KEY_LENGTH) {
      const message = `The key must be between 1-${MAX_KEY_LENGTH} chars.`;
      return c.json(fail(400, "invalid_idempotency_key", message), 400);
    }
    const fingerprint = createHash("sha256")
      .update(`${endpoint}\n${canonicalJson(payload)}`)
      .digest("hex");
    const existing = keys.get(key);
    if (existing?.state === "done" && existing.expiresAt <= now().getTime()) keys.delete(key);
    const record = keys.get(key);
    if (record?.state === "in_progress") {
      const message = "Same idempotency key used while original request is still in progress.";
      return c.json(fail(409, "concurrent_idempotent_requests", message), 409);
    }
    if (record?.state === "done") {
      if (record.fingerprint !== fingerprint) {
        const message = "Same idempotency key used with a different request payload.";
        return c.json(fail(409, "invalid_idempotent_request", message), 409);
      }
      return c.json(record.result.body, record.result.status);
    }
    const quota = overQuota(c, count);
    if (quota) return quota;
    // Claimed with no await since the lookup above, so a parallel request with this key sees "in_progress".
    keys.set(key, { state: "in_progress", fingerprint });
    try {
      const result = await store(accept(key));
      if (result.status === 200) {
        keys.set(key, { state: "done", fingerprint, result, expiresAt: now().getTime() + KEY_TTL_MS });
      } else {
        keys.delete(key);
      }
      return c.json(result.body, result.status);
    } catch (error) {
      keys.delete(key);
      throw error;
    }
  }

  async function readJson(
    c: Context,
  ): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
    const text = await c.req.text();
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return {
        ok: false,
        response: c.json(fail(400, "validation_error", "The body is not valid JSON."), 400),
      };
    }
  }

  const requireKey: MiddlewareHandler = async (c, next) => {
    if (apiKey === undefined) return next();
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match === null) {
      return c.json(fail(401, "missing_api_key", "Missing API key in the authorization header."), 401);
    }
    if (match[1] !== apiKey) return c.json(fail(403, "invalid_api_key", "API key is invalid."), 403);
    return next();
  };

  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json(fail(413, "validation_error", "The request body is larger than 1 MiB."), 413),
  });

  const failFirst: MiddlewareHandler = async (c, next) => injectedFailure(c) ?? rateLimited(c) ?? next();

  const app = new Hono();

  app.post("/emails", requireKey, failFirst, limitBody, async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    return send(c, "/emails", body.value, (key) => {
      const parsed = parseEmail(body.value);
      if (!parsed.ok)
        return { result: { status: 422, body: fail(422, "validation_error", parsed.message) }, emails: [] };
      const email = toStored(parsed.email, key);
      return { result: { status: 200, body: { id: email.id } }, emails: [email] };
    });
  });

  app.post("/emails/batch", requireKey, failFirst, limitBody, async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const permissive = c.req.header("x-batch-validation") === "permissive";
    const payload = body.value;
    return send(c, permissive ? "/emails/batch?permissive" : "/emails/batch", payload, (key) => {
      if (!Array.isArray(payload) || payload.length === 0 || payload.length > MAX_BATCH) {
        const message = `The body must be an array of 1 to ${MAX_BATCH} emails.`;
        return { result: { status: 422, body: fail(422, "validation_error", message) }, emails: [] };
      }
      const errors: { index: number; message: string }[] = [];
      const valid: EmailRequest[] = [];
      for (const [index, item] of payload.entries()) {
        const parsed = parseEmail(item);
        if (!parsed.ok) errors.push({ index, message: parsed.message });
        else if (parsed.email.attachments !== undefined || parsed.email.scheduled_at !== undefined) {
          errors.push({
            index,
            message: "`attachments` and `scheduled_at` are not supported in batch sends.",
          });
        } else valid.push(parsed.email);
      }
      const [first] = errors;
      if (!permissive && first !== undefined) {
        const message = `emails[${first.index}]: ${first.message}`;
        return { result: { status: 422, body: fail(422, "validation_error", message) }, emails: [] };
      }
      const emails = valid.map((email) => toStored(email, key));
      const data = emails.map((email) => ({ id: email.id }));
      return { result: { status: 200, body: permissive ? { data, errors } : { data } }, emails };
    });
  });

  // The pages and the list answer without a key, so only to this machine: a page of another site that rebinds its
  // DNS name to 127.0.0.1 must not read the captured emails.
  const thisMachineOnly: MiddlewareHandler = async (c, next) =>
    isLocalHost(c.req.header("host"))
      ? next()
      : c.json(fail(403, "forbidden", "The outbox answers requests from this machine only."), 403);

  app.get("/emails/:id/view", thisMachineOnly, (c) => {
    const email = stored.find((item) => item.id === c.req.param("id"));
    c.header("content-security-policy", PAGE_CSP);
    c.header("referrer-policy", "no-referrer");
    if (email === undefined) {
      return c.html(
        page(
          "Email not found - Outbox - Linkshop",
          html`<main><h1>Email not found</h1><p><a href="/">Back to the outbox</a></p></main>`,
        ),
        404,
      );
    }
    return c.html(viewPage(email));
  });

  app.get("/emails/:id", requireKey, (c) => {
    const email = stored.find((item) => item.id === c.req.param("id"));
    if (email === undefined) return c.json(fail(404, "not_found", "Email not found."), 404);
    return c.json(toRetrieveResponse(email));
  });

  // `?since=<ISO time>` lists only the emails created at or after it, so a drill watching a long-lived outbox does not
  // read every earlier email on each look.
  app.get("/api/emails", thisMachineOnly, (c) => {
    const since = c.req.query("since");
    const from = since === undefined ? undefined : Date.parse(since);
    if (from !== undefined && Number.isNaN(from)) {
      return c.json(fail(422, "validation_error", "`since` must be an ISO 8601 time."), 422);
    }
    const data = from === undefined ? stored : stored.filter((email) => Date.parse(email.createdAt) >= from);
    return c.json({ object: "list", data });
  });

  // The limits it enforces and the requests they refused, for drills that run in another process.
  app.get("/api/limits", thisMachineOnly, (c) =>
    c.json({
      requestsPerSecond: limits.requestsPerSecond ?? null,
      dailyQuota: limits.dailyQuota ?? null,
      refusals: { ...refused },
    }),
  );

  // Resend's domain list, so a setup check can ask whether the sender's domain is verified.
  const domainsCreatedAt = now().toISOString();
  app.get("/domains", requireKey, (c) =>
    c.json({
      object: "list",
      has_more: false,
      data: (options.verifiedDomains ?? []).map((name) => ({
        id: createHash("sha256").update(name).digest("hex").slice(0, 32),
        name,
        status: "verified",
        created_at: domainsCreatedAt,
        region: "us-east-1",
        capabilities: { sending: "enabled", receiving: "disabled" },
      })),
    }),
  );

  app.get("/", thisMachineOnly, (c) => {
    c.header("content-security-policy", PAGE_CSP);
    c.header("referrer-policy", "no-referrer");
    return c.html(listPage(stored));
  });

  app.notFound((c) => c.json(fail(404, "not_found", "The requested endpoint does not exist."), 404));
  app.onError((error, c) => {
    // Only the error's class: its message could carry email content.
    console.error("outbox.error", { error: error.name });
    return c.json(fail(500, "internal_server_error", "An unexpected error occurred."), 500);
  });

  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((ready, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      ready();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((done, reject) =>
        server.close((error) => (error ? reject(error) : done())),
      );
      server.closeIdleConnections();
      await Promise.allSettled([...writes]);
      server.closeAllConnections();
      await closed;
    },
    emails: () => stored.map((email) => structuredClone(email)),
    failNext(count, status, failOptions = {}) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError("failNext: count must be a whole number >= 0");
      failure =
        count === 0
          ? undefined
          : { remaining: count, status, retryAfterSeconds: failOptions.retryAfterSeconds };
    },
    holdNext() {
      let arrive = () => {};
      let release = () => {};
      const arrived = new Promise<void>((done) => {
        arrive = done;
      });
      const released = new Promise<void>((done) => {
        release = done;
      });
      holds.push({ arrive, released });
      return { arrived, release };
    },
    setLimits(next) {
      limits = { ...next };
      recent = [];
    },
    refusals() {
      return { ...refused };
    },
    async clear() {
      await Promise.allSettled([...writes]);
      stored.length = 0;
      keys.clear();
      failure = undefined;
      const names = await readdir(dir);
      await Promise.all(
        names.filter((name) => FILE_PATTERN.test(name)).map((name) => rm(join(dir, name), { force: true })),
      );
    },
  };
}

/** Reads the email files an earlier run left, oldest first; unreadable files are skipped, not fatal. */
async function loadEmails(dir: string): Promise<StoredEmail[]> {
  const names = (await readdir(dir)).filter((name) => FILE_PATTERN.test(name));
  const emails: StoredEmail[] = [];
  for (const name of names) {
    try {
      const parsed = v.safeParse(StoredEmailFile, JSON.parse(await readFile(join(dir, name), "utf8")));
      if (parsed.success) emails.push(parsed.output);
      else console.warn("outbox.skipped_file", { file: name });
    } catch {
      console.warn("outbox.skipped_file", { file: name });
    }
  }
  return emails.sort(byCreatedAt);
}
