/**
 * What a developer sees while `netlify dev` runs (as under `npm start`): netlify.toml's dev command rebuilds a
 * function's one-file bundle when a file it imports changes, netlify dev serves the new code, a function added to
 * netlify/functions/ answers too, and an edit that does not build leaves the last good bundle answering. Runs in a
 * copy of the project, so the checkout's own files are never touched.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NetlifyDev, startNetlifyDev } from "../../dev/netlify-dev.ts";
import { freePort } from "../../dev/ports.ts";
import { type ProjectCopy, copyProject } from "../../dev/project-copy.ts";

const root = join(import.meta.dirname, "../..");
let copy: ProjectCopy;
let netlify: NetlifyDev;
const output: string[] = [];

/** A function that answers with a word from a module it imports, like every function imports src/. */
const probeFunction = `import { word } from "../../src/probe-word.ts";
export default async () => new Response(word);
export const config = { path: "/api/probe" };
`;
const writeWord = (source: string) => writeFile(join(copy.project, "src/probe-word.ts"), source);

/** The probe's answer now: its body on a 200, the status otherwise (before netlify dev has loaded it). */
async function probe(): Promise<string> {
  const response = await fetch(`${netlify.url}/api/probe`).catch(() => undefined);
  if (!response) return "no answer";
  const body = await response.text();
  return response.ok ? body : `status ${response.status}`;
}

beforeAll(async () => {
  copy = await copyProject(root, "linkshop-reload-");
  netlify = await startNetlifyDev({
    cwd: copy.project,
    port: await freePort(),
    env: {},
    onOutput: (line) => output.push(line),
  });
});

afterAll(async () => {
  await netlify?.stop();
  await copy?.remove();
});

describe("netlify dev reloads what a developer edits", () => {
  it("serves a new function, then each edit of a file it imports; a broken edit keeps the last good code", async () => {
    await writeWord(`export const word = "first";\n`);
    await mkdir(join(copy.project, "netlify/functions"), { recursive: true });
    await writeFile(join(copy.project, "netlify/functions/probe.ts"), probeFunction);
    await expect.poll(probe, { timeout: 90_000, interval: 500 }).toBe("first");

    await writeWord(`export const word = "second";\n`);
    await expect.poll(probe, { timeout: 60_000, interval: 500 }).toBe("second");

    // A syntax error: the build says where, and the function goes on answering with the last bundle that built.
    const reported = output.length;
    await writeWord(`export const word = "third"\nexport const = ;\n`);
    await expect
      .poll(() => output.slice(reported).some((line) => line.includes("src/probe-word.ts:2")), {
        timeout: 60_000,
        interval: 200,
      })
      .toBe(true);
    expect(await probe()).toBe("second");

    await writeWord(`export const word = "fourth";\n`);
    await expect.poll(probe, { timeout: 60_000, interval: 500 }).toBe("fourth");
  });
});
