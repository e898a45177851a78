/** The site's response headers, as netlify.toml sets them for every deploy and netlify dev: the one place they live. */
import { readFile } from "node:fs/promises";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";

interface HeaderRule {
  for: string;
  values: Record<string, string>;
}

const config = parse(await readFile("netlify.toml", "utf8")) as { headers?: HeaderRule[] };
const rules = config.headers ?? [];

/** Netlify's `for` patterns: `*` matches anything, slashes included (placeholders are not used here). */
function matches(pattern: string, path: string): boolean {
  const source = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${source}$`).test(path);
}

/** Every rule that applies to `path`, and the headers they add (names lowercased). */
function headersFor(path: string): { matched: HeaderRule[]; headers: Record<string, string> } {
  const matched = rules.filter((rule) => matches(rule.for, path));
  const headers: Record<string, string> = {};
  for (const rule of matched)
    for (const [name, value] of Object.entries(rule.values)) headers[name.toLowerCase()] = value;
  return { matched, headers };
}

// A page, the thank-you page in both spellings, a hashed asset, a picture and the published links file.
const PATHS = [
  "/",
  "/index.html",
  "/thanks",
  "/thanks/",
  "/assets/styles.0123abcd.css",
  "/images/camp-mug.png",
];

describe("netlify.toml [[headers]]", () => {
  it.each(PATHS)("serves %s with the strict CSP, HSTS, a Permissions-Policy and no referrer", (path) => {
    const { headers } = headersFor(path);
    expect(headers).toMatchObject({
      "content-security-policy":
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
    });
  });

  it("serves /thanks, whose address carries the Checkout Session id, with Referrer-Policy: no-referrer", () => {
    for (const path of ["/thanks", "/thanks/"]) {
      expect(headersFor(path).headers["referrer-policy"]).toBe("no-referrer");
    }
  });

  it("turns off the powerful features a static shop never uses, payment included (Stripe's pages are linked)", () => {
    const policy = headersFor("/").headers["permissions-policy"] ?? "";
    const directives = policy.split(",").map((directive) => directive.trim());
    for (const directive of directives) expect(directive).toMatch(/^[a-z-]+=\(\)$/);
    expect(directives).toEqual(
      expect.arrayContaining(["camera=()", "microphone=()", "geolocation=()", "payment=()"]),
    );
  });

  it("caches only the hashed assets for good", () => {
    expect(headersFor("/assets/thanks.0123abcd.js").headers["cache-control"]).toBe(
      "public, max-age=31536000, immutable",
    );
    for (const path of ["/", "/thanks", "/payment-links.json"])
      expect(headersFor(path).headers["cache-control"]).toBeUndefined();
  });

  it.each(PATHS)("sets each header on %s from one rule only (Netlify would merge two)", (path) => {
    const names = headersFor(path).matched.flatMap((rule) =>
      Object.keys(rule.values).map((n) => n.toLowerCase()),
    );
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
  });
});
