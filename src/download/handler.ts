/**
 * /download/<token>: a file of an order. GET (and HEAD) show a small page in the shop's language with a download
 * button; only its POST transfers the file and counts. Mail providers' link scanners fetch every link of an email
 * with GET, so they see the page and use nothing. No Stripe call; two Upstash requests per page or transfer.
 */
import type { ConfigError } from "../config.ts";
import type { DownloadCounter, FileStore, Ledger } from "../fulfilment/ports.ts";
import { StoreUnavailableError } from "../lib/errors.ts";
import { html, type SafeHtml } from "../lib/html.ts";
import type { Logger } from "../lib/log.ts";
import { type DownloadGrant, fileBlobKey, type OrderFile, verifyDownload } from "../order/downloads.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import { orderNumber } from "../order/number.ts";
import { type Translator, translator } from "../i18n/messages.ts";
import type { ShopInfo } from "../shop/info.ts";
import { PRIVATE_PAGE_HEADERS, shopPage } from "../shop/page.ts";

/** What the download endpoint runs on. */
export interface DownloadDeps {
  ledger: Pick<Ledger, "get">;
  counter: Pick<DownloadCounter, "used" | "take">;
  files: FileStore;
  shop: ShopInfo;
  /** The shop's secret that signs download links (LINKSHOP_DOWNLOAD_SECRET). */
  secret: string;
  now: () => number;
  log: Logger;
}

/**
 * A page instead of the file. Statuses: 404 a link that is not valid; 410 gone for good (expired, limit reached,
 * refunded); 423 locked while a dispute is open; 503 try again. Never 403: Netlify's CDN (and netlify dev) would
 * retry a 403 or 404 under other paths (`/index.html`), which here would only answer "not valid".
 */
type Page = { kind: "page"; status: number; title: string; body: SafeHtml; note: string };
type Transfer = { kind: "file"; file: OrderFile; body: ReadableStream<Uint8Array>; size: number | undefined };

/** Builds the request handler over `deps`, or one that answers 500 (and logs why) when configuration failed. */
export function createDownloadHandler(
  deps: DownloadDeps | ConfigError,
  log: Logger,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    if (deps instanceof Error) {
      log("config.invalid", { message: deps.message });
      return new Response("Downloads are not configured.", { status: 500, headers: PAGE_HEADERS });
    }
    const text = translator(deps.shop.locale, "download");
    let answer: Page | Transfer;
    try {
      answer = await respond(req, deps, text);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      answer = page(503, text("unavailableTitle"), html`<p>${text("unavailable")}</p>`, "store_unavailable");
    }
    deps.log("download", {
      method: req.method,
      status: answer.kind === "file" ? 200 : answer.status,
      note: answer.kind === "file" ? "transfer" : answer.note,
      fileId: answer.kind === "file" ? answer.file.id : undefined,
      durationMs: Math.round(performance.now() - started),
    });
    if (answer.kind === "file") {
      return new Response(req.method === "HEAD" ? null : answer.body, {
        status: 200,
        headers: {
          "content-type": "application/octet-stream",
          ...(answer.size !== undefined && { "content-length": String(answer.size) }),
          "content-disposition": contentDisposition(answer.file.name),
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
          "x-content-type-options": "nosniff",
        },
      });
    }
    const document = layout(deps.shop, answer.title, answer.body);
    return new Response(req.method === "HEAD" ? null : document.toString(), {
      status: answer.status,
      headers: { ...PAGE_HEADERS, ...(answer.status === 405 && { allow: "GET, HEAD, POST" }) },
    });
  };
}

const PAGE_HEADERS = PRIVATE_PAGE_HEADERS;

async function respond(
  req: Request,
  deps: DownloadDeps,
  text: Translator<"download">,
): Promise<Page | Transfer> {
  const transfer = req.method === "POST";
  if (!transfer && req.method !== "GET" && req.method !== "HEAD")
    return page(405, text("invalidTitle"), html`<p>${text("invalid")}</p>`, "method_not_allowed");
  const token = tokenOf(new URL(req.url).pathname);
  // The signature is checked before anything is read: a forged or altered link costs no store request.
  const checked = verifyDownload(token ?? "", deps.secret, deps.now());
  if ("problem" in checked && checked.problem === "invalid")
    return page(404, text("invalidTitle"), html`<p>${text("invalid")}</p>`, "invalid_link");
  const number = orderNumber(checked.grant.sessionId);
  if ("problem" in checked)
    return page(
      410,
      text("expiredTitle"),
      html`<p>${text("expired", { order: number })}</p>${help(deps.shop, text)}`,
      "expired",
    );

  const { grant } = checked;
  const record = await deps.ledger.get(grant.sessionId);
  const file = record?.files?.find(({ id }) => id === grant.fileId);
  if (!record || !file)
    return page(
      503,
      text("unavailableTitle"),
      html`<p>${text("unavailable")}</p>${help(deps.shop, text)}`,
      "no_record",
    );
  const refused = accessRefused(record, number, text);
  if (refused) return { ...refused, body: html`${refused.body}${help(deps.shop, text)}` };
  const limit = deps.shop.downloads.limit;

  if (!transfer) {
    const [used, size] = await Promise.all([
      deps.counter.used(grant.sessionId, file.id),
      deps.files.size(fileBlobKey(file.id)),
    ]);
    if (used >= limit) return limitPage(deps, text, number);
    return page(200, text("title"), offer(deps, text, grant, file, number, limit - used, size), "page");
  }

  // Open first, count second: a file that cannot be read uses no download.
  const stored = await deps.files.open(fileBlobKey(file.id));
  if (!stored) {
    deps.log("download.file_missing", { level: "error", fileId: file.id });
    return page(
      503,
      text("unavailableTitle"),
      html`<p>${text("unavailable")}</p>${help(deps.shop, text)}`,
      "no_file",
    );
  }
  const { taken } = await deps.counter.take(grant.sessionId, file.id, limit).catch(async (error: unknown) => {
    await stored.body.cancel();
    throw error;
  });
  if (!taken) {
    await stored.body.cancel();
    return limitPage(deps, text, number);
  }
  return { kind: "file", file, body: stored.body, size: stored.size };
}

/** The page of a refunded or disputed order, or undefined when its files may be delivered. */
function accessRefused(record: LedgerRecord, number: string, text: Translator<"download">): Page | undefined {
  if (record.state === "refunded")
    return page(410, text("refundedTitle"), html`<p>${text("refunded", { order: number })}</p>`, "refunded");
  if (record.state === "disputed")
    return page(423, text("disputedTitle"), html`<p>${text("disputed", { order: number })}</p>`, "disputed");
  if (record.state !== "fulfilled")
    return page(503, text("unavailableTitle"), html`<p>${text("unavailable")}</p>`, `state_${record.state}`);
  return undefined;
}

function limitPage(deps: DownloadDeps, text: Translator<"download">, number: string): Page {
  const limit = deps.shop.downloads.limit;
  return page(
    410,
    text("limitTitle"),
    html`<p>${text("limit", { limit, order: number })}</p>${help(deps.shop, text)}`,
    "limit",
  );
}

function offer(
  deps: DownloadDeps,
  text: Translator<"download">,
  grant: DownloadGrant,
  file: OrderFile,
  number: string,
  left: number,
  size: number | undefined,
): SafeHtml {
  const { locale } = deps.shop;
  const until = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(
    grant.expiresAt * 1000,
  );
  return html`<p class="file">${file.name}</p>
    <dl>
      ${size !== undefined && html`<dt>${text("size")}</dt><dd>${formatSize(size, locale)}</dd>`}
      <dt>${text("order", { number })}</dt><dd>${text("left", { count: left, limit: deps.shop.downloads.limit })}</dd>
    </dl>
    <p>${text("until", { date: until })}</p>
    <form method="post"><button type="submit">${text("button")}</button></form>
    <p class="note">${text("onlyTransfersCount")}</p>`;
}

function help(shop: ShopInfo, text: Translator<"download">): SafeHtml {
  return html`<p class="note">${text("help")} <a href="mailto:${shop.supportEmail}">${shop.supportEmail}</a></p>`;
}

function page(status: number, title: string, body: SafeHtml, note: string): Page {
  return { kind: "page", status, title, body, note };
}

function layout(shop: ShopInfo, title: string, body: SafeHtml): SafeHtml {
  return shopPage(shop, {
    title,
    body,
    width: "32rem",
    style: (accent) =>
      ".file{font-weight:600;word-break:break-all}" +
      "dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{color:#55554f}dd{margin:0}" +
      `button{font:inherit;font-weight:600;padding:.75rem 1.5rem;border:0;border-radius:6px;background:${accent};color:#fff;cursor:pointer}` +
      "button:focus-visible,a:focus-visible{outline:3px solid #1d1d1b;outline-offset:2px}",
  });
}

/** The token of `/download/<token>`, if the path has that shape. */
function tokenOf(pathname: string): string | undefined {
  const match = /^\/download\/([A-Za-z0-9_.-]{1,400})\/?$/.exec(pathname);
  return match?.[1];
}

/** `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266), so any file name survives any browser. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function formatSize(bytes: number, locale: string): string {
  const units = ["byte", "kilobyte", "megabyte"] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: units[unit],
    unitDisplay: unit === 0 ? "long" : "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}
