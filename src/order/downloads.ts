/**
 * Download links: one per file of an order, signed with the shop's secret, bound to the order and the file, and
 * valid until a date. The link names no secret and no personal data; the ledger holds the counts.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { sha256 } from "../lib/hash.ts";
import { SESSION_ID } from "./session.ts";

/** One file of an order, as the ledger records it at fulfilment. */
export interface OrderFile {
  /** Short, stable id of the file within the shop: names the link, the counter and the stored object. */
  id: string;
  /** What the customer sees and saves: the file's own name, e.g. `trail-maps.pdf`. */
  name: string;
  /** The catalog product it belongs to. */
  productId: string;
}

/** The id of a catalog file: the same in every build, so links in old receipts keep pointing at it. */
export function fileId(productId: string, path: string): string {
  return sha256(`file:${productId}/${path}`).slice(0, 16);
}

/** Where a file is stored (Netlify Blobs key): by id, so a renamed product file gets a new object. */
export function fileBlobKey(id: string): string {
  return `downloads/${id}`;
}

/** What a valid link grants. `expiresAt` is unix seconds. */
export interface DownloadGrant {
  sessionId: string;
  fileId: string;
  expiresAt: number;
}

const FILE_ID = /^[0-9a-f]{16}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** Seconds in a day. */
const DAY_SECONDS = 24 * 60 * 60;

function signature(grant: DownloadGrant, secret: string): Buffer {
  return createHmac("sha256", secret)
    .update(`download:v1:${grant.sessionId}:${grant.fileId}:${grant.expiresAt}`)
    .digest();
}

/** The link token for a grant: `<session>.<file>.<expires>.<signature>`, URL-safe. */
export function signDownload(grant: DownloadGrant, secret: string): string {
  return [
    grant.sessionId,
    grant.fileId,
    grant.expiresAt,
    signature(grant, secret).toString("base64url"),
  ].join(".");
}

/** A grant for `file` of an order fulfilled at `fulfilledAt` (ms), valid for `days`. */
export function grantFor(sessionId: string, file: Pick<OrderFile, "id">, fulfilledAt: number, days: number) {
  return { sessionId, fileId: file.id, expiresAt: Math.floor(fulfilledAt / 1000) + days * DAY_SECONDS };
}

/** Why a token is refused: `invalid` (malformed or signed otherwise) or `expired` (genuine but past its date). */
export type TokenProblem = "invalid" | "expired";

/**
 * Checks a token in constant time against the secret. A changed character anywhere is `invalid`; a genuine token
 * past its date is `expired` (and still names its order, so the page can say how to get a new link).
 */
export function verifyDownload(
  token: string,
  secret: string,
  nowMs: number,
): { grant: DownloadGrant } | { problem: "invalid" } | { problem: "expired"; grant: DownloadGrant } {
  const parts = token.split(".");
  if (parts.length !== 4) return { problem: "invalid" };
  const [sessionId = "", id = "", expires = "", given = ""] = parts;
  if (
    !SESSION_ID.test(sessionId) ||
    !FILE_ID.test(id) ||
    !/^\d{1,12}$/.test(expires) ||
    !SIGNATURE.test(given)
  )
    return { problem: "invalid" };
  const grant: DownloadGrant = { sessionId, fileId: id, expiresAt: Number(expires) };
  // Compared as text: two base64url strings can decode to the same bytes (the last character's spare bits).
  const expected = Buffer.from(signature(grant, secret).toString("base64url"));
  if (!timingSafeEqual(Buffer.from(given), expected)) return { problem: "invalid" };
  if (grant.expiresAt * 1000 <= nowMs) return { problem: "expired", grant };
  return { grant };
}
