/** npm start explains what stops it, without a stack trace: catalog mistakes by product id, all at once. */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports.ts";

const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const START = resolve("scripts/start.ts");
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function start(cwd: string, ports: number[]): Promise<{ code: number; output: string }> {
  const [shop, stripe, upstash, outbox] = ports.map(String);
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", TSX, START, "--port", shop ?? "", "--stripe-port", stripe ?? ""].concat([
        "--upstash-port",
        upstash ?? "",
        "--outbox-port",
        outbox ?? "",
      ]),
      { cwd, env: { ...process.env, STRIPE_SECRET_KEY: "", UPSTASH_REDIS_REST_URL: "", RESEND_API_KEY: "" } },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe("npm start with a broken catalog", () => {
  it("lists every mistake by product id, missing pictures included, and exits 1 without a stack trace", async () => {
    dir = await mkdtemp(join(tmpdir(), "linkshop-start-"));
    await writeFile(
      join(dir, "catalog.json"),
      JSON.stringify({
        shop: { name: "Trailhead", currency: "usd", supportEmail: "help@trailhead.example" },
        products: [
          { id: "mug", name: "Mug", description: "A mug.", price: { amount: 0 } },
          {
            id: "tote",
            name: "Tote",
            description: "A bag.",
            price: { amount: 2400 },
            images: [
              { src: "images/tote.png", alt: "" },
              { src: "images/gone.png", alt: "Gone" },
            ],
          },
        ],
      }),
    );
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const { code, output } = await start(dir, ports);
    expect(code).toBe(1);
    expect(output).toContain('product "mug", price.amount: must be a positive amount in minor units');
    expect(output).toContain('product "tote", images[0].alt: must be a non-empty string');
    expect(output).toContain('product "tote", images[1].src: public/images/gone.png does not exist');
    expect(output).toContain("Fix catalog.json, then run npm start again.");
    expect(output).not.toMatch(/^\s+at /m);
  });
});
