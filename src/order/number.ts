/** Order numbers: short, read-aloud-safe names for Checkout Sessions, derived from the session id alone. */
import { createHash } from "node:crypto";

// 31 symbols: digits and capitals without 0/O, 1/I/L, which are misheard or misread.
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const LENGTH = 8;

/** The pattern of an order number as shown: two groups of four, e.g. `7KQ4-M9PX`. */
export const ORDER_NUMBER = new RegExp(`^[${ALPHABET}]{4}-[${ALPHABET}]{4}$`);

/**
 * The order number of a Checkout Session: the same for every path and retry, because it is a hash of the id
 * (31^8, about 8.5e11 values: collisions within one shop's orders are negligible).
 */
export function orderNumber(sessionId: string): string {
  let value = BigInt(`0x${createHash("sha256").update(`order:${sessionId}`).digest("hex")}`);
  let out = "";
  for (let i = 0; i < LENGTH; i++) {
    out += ALPHABET[Number(value % 31n)];
    value /= 31n;
  }
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

/** Reads what a person typed (any case, with or without the dash or spaces) as an order number. */
export function normalizeOrderNumber(input: string): string | undefined {
  const compact = input.trim().toUpperCase().replace(/[\s-]/g, "");
  if (compact.length !== LENGTH) return undefined;
  const shaped = `${compact.slice(0, 4)}-${compact.slice(4)}`;
  return ORDER_NUMBER.test(shaped) ? shaped : undefined;
}
