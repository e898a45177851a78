/** The generated Payment Link file the site build reads: `{ "<catalog id>": "<url>" }`, sorted, stable. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as v from "valibot";

/** Payment Link URL per catalog id. */
export type PaymentLinks = Record<string, string>;

/** Default location, committed for the real Stripe account so site builds need no Stripe key. */
export const DEFAULT_LINKS_FILE = "payment-links.json";

const linksSchema = v.record(
  v.string(),
  v.pipe(
    v.string(),
    v.check((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), "must be an http(s) URL"),
  ),
);

/** Serialises links with sorted keys and a trailing newline, so re-running the sync gives an identical file. */
export function formatPaymentLinks(links: PaymentLinks): string {
  const sorted = Object.fromEntries(Object.entries(links).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** Writes the file (creating its folder) unless it already holds exactly this content; returns whether it wrote. */
export async function writePaymentLinks(path: string, links: PaymentLinks): Promise<boolean> {
  const content = formatPaymentLinks(links);
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === content) return false;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return true;
}

/** Reads and checks the file; undefined when it does not exist. Throws with the path when it is malformed. */
export async function readPaymentLinks(path: string): Promise<PaymentLinks | undefined> {
  let source: string;
  try {
    source = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  const result = v.safeParse(linksSchema, json);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? "file"}: ${issue.message}`);
    throw new Error(`${path} must map catalog ids to http(s) URLs (${problems.join("; ")})`);
  }
  return result.output;
}
