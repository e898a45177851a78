/** The Deploy to Netlify button asks for every variable the functions read, so one flow gives a working site. */
import { readFile } from "node:fs/promises";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../src/config.ts";

// Set by Netlify itself (URL) or only meaningful on a development machine (the emulator's address).
const NOT_ASKED = new Set(["URL", "STRIPE_API_BASE"]);

describe("netlify.toml [template.environment]", () => {
  it("describes every variable a merchant sets, and nothing else", async () => {
    const config = parse(await readFile("netlify.toml", "utf8")) as {
      template?: { environment?: Record<string, unknown> };
    };
    const described = config.template?.environment ?? {};
    expect(Object.keys(described).sort()).toEqual(
      CONFIG_VARIABLES.filter((name) => !NOT_ASKED.has(name)).sort(),
    );
    for (const text of Object.values(described)) expect(String(text).length).toBeGreaterThan(10);
  });

  it("points the README's Deploy button at Netlify's deploy flow", async () => {
    const readme = await readFile("README.md", "utf8");
    expect(readme).toMatch(
      /\[!\[Deploy to Netlify\]\(https:\/\/www\.netlify\.com\/img\/deploy\/button\.svg\)\]\(https:\/\/app\.netlify\.com\/start\/deploy\?repository=https:\/\/github\.com\/[^)\s]+\)/,
    );
  });
});
