/**
 * Customers, found without keeping their addresses: an order is indexed under a keyed hash of its customer's email
 * (HMAC-SHA256 with a key derived from the shop's secret), so the ledger can answer "which orders has this address"
 * for the customer's own pages, while a copy of the database alone reveals no address.
 */
import { createHmac } from "node:crypto";

/** What a key derived from the shop's secret is for; each purpose gets its own key. */
export type KeyPurpose = "customers" | "sign-in";

/** A key for `purpose`, derived from the shop's secret (LINKSHOP_DOWNLOAD_SECRET). */
export function shopKey(secret: string, purpose: KeyPurpose): Buffer {
  return createHmac("sha256", secret).update(`linkshop:${purpose}`).digest();
}

/** The address as customers type it in any case and with stray spaces: trimmed and lowercased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The index key of a customer's email: 64 hex characters, the same for the same address in any case. */
export function customerHash(email: string, secret: string): string {
  return createHmac("sha256", shopKey(secret, "customers")).update(normalizeEmail(email)).digest("hex");
}
