/** Hashing for names derived from untrusted input. */
import { createHash } from "node:crypto";

/** `sha256` hex of a string. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
