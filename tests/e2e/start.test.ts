/** `npm start` as a newcomer runs it: no .env, everything emulated, one banner, and Ctrl-C leaves nothing behind. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports.ts";
import { HANDLED_EVENTS } from "../../src/order/events.ts";

const root = new URL("../../", import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `npm start` in its own process group, as a terminal would, with ports chosen for this test. */
function start(ports: Record<string, number>, extraEnv: Record<string, string> = {}): Started {
  const child = spawn("npm", ["start", "--", "--quiet"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      LINKSHOP_PORT: String(ports.shop),
      LINKSHOP_STRIPE_PORT: String(ports.stripe),
      LINKSHOP_UPSTASH_PORT: String(ports.upstash),
      LINKSHOP_OUTBOX_PORT: String(ports.outbox),
      ...extraEnv,
    },
  });
  let text = "";
  child.stdout?.on("data", (chunk) => {
    text += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    text += chunk;
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, output: () => text, exited };
}

async function ports() {
  return {
    shop: await freePort(),
    stripe: await freePort(),
    upstash: await freePort(),
    outbox: await freePort(),
  };
}

/** True when nothing in the process group is alive any more. */
function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Runs a command in the project, as a developer would in a second terminal, and collects its output. */
function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: root, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

let running: Started | undefined;
let blocker: Server | undefined;

afterEach(async () => {
  if (running?.child.pid && !groupGone(running.child.pid)) process.kill(-running.child.pid, "SIGKILL");
  running = undefined;
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
});

describe("npm start", () => {
  it("serves the shop with every service emulated, then stops everything on Ctrl-C", async () => {
    const p = await ports();
    const blank = { STRIPE_SECRET_KEY: "", UPSTASH_REDIS_REST_URL: "", RESEND_API_KEY: "" };
    running = start(p, blank);
    await expect
      .poll(() => running?.output(), { timeout: 90_000, interval: 200 })
      .toContain("Press Ctrl-C to stop.");
    const banner = running.output();
    expect(banner).toContain(`Shop      http://localhost:${p.shop}`);
    expect(banner).toContain(`Outbox    http://127.0.0.1:${p.outbox}`);
    expect(banner).toMatch(/Stripe {4}emulated at http:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toMatch(/Upstash {3}emulated/);
    expect(banner).toContain("Resend    emulated");
    // The two commands to paste for the real Stripe CLI, against this emulator and this shop.
    const api = `--api-base http://127.0.0.1:${p.stripe} --api-key sk_test_linkshop_local`;
    expect(banner).toContain(
      `    stripe listen ${api} --events ${[...HANDLED_EVENTS, "checkout.session.expired"].join(",")} --forward-to localhost:${p.shop}/api/stripe-webhook\n`,
    );
    expect(banner).toContain(`    stripe trigger checkout.session.completed ${api}\n`);

    const home = await fetch(`http://localhost:${p.shop}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    // Buy buttons point at the emulator's hosted checkout pages.
    expect(html).toContain(`http://127.0.0.1:${p.stripe}/pay/plink_`);
    const outbox = await fetch(`http://127.0.0.1:${p.outbox}/`);
    expect(outbox.status).toBe(200);

    // npm run build writes dist/ from payment-links.json; the running shop keeps serving its own build.
    await run("npm", ["run", "build"], blank);
    expect(await (await fetch(`http://localhost:${p.shop}/`)).text()).toBe(html);

    // The doctor checks the running shop's configuration, and a variable in the environment wins over it.
    const site = `http://localhost:${p.shop}`;
    const healthy = await run("npm", ["run", "doctor", "--", "--url", site], blank);
    expect(healthy.output).toContain("All checks passed.");
    expect(healthy.code).toBe(0);
    const wrong = await run("npm", ["run", "doctor", "--", "--url", site], {
      ...blank,
      STRIPE_WEBHOOK_SECRET: "whsec_wrong_secret",
    });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain("rejects events signed with this STRIPE_WEBHOOK_SECRET");

    const pgid = running.child.pid ?? 0;
    process.kill(-pgid, "SIGINT");
    await running.exited;
    await expect(readFile(join(root, ".linkshop/stack.json"))).rejects.toThrow(/ENOENT/);
    await expect.poll(() => groupGone(pgid), { timeout: 60_000, interval: 100 }).toBe(true);
    for (const port of Object.values(p)) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, () => server.close(() => resolve()));
      });
    }
  });

  it("uses real test-mode Stripe keys when given, and prints the stripe listen step instead", async () => {
    const p = await ports();
    running = start(p, {
      STRIPE_SECRET_KEY: "sk_test_from_dotenv",
      UPSTASH_REDIS_REST_URL: "",
      RESEND_API_KEY: "",
    });
    await expect
      .poll(() => running?.output(), { timeout: 90_000, interval: 200 })
      .toContain("Press Ctrl-C to stop.");
    const banner = running.output();
    expect(banner).toContain("Stripe    REAL (test mode) from .env");
    expect(banner).toContain(
      `stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to localhost:${p.shop}/api/stripe-webhook`,
    );
    expect(banner).toContain("Upstash   emulated");
    // No emulator was started on its port.
    await expect(fetch(`http://127.0.0.1:${p.stripe}/`)).rejects.toThrow();
    const pgid = running.child.pid ?? 0;
    process.kill(-pgid, "SIGINT");
    await running.exited;
  });

  it("names a taken port and how to choose another", async () => {
    const p = await ports();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(p.outbox, resolve));
    running = start(p);
    const code = await running.exited;
    expect(code).not.toBe(0);
    expect(running.output()).toContain(
      `Port ${p.outbox} (outbox) is already in use. Stop what is using it, or choose another port with --outbox-port (or LINKSHOP_OUTBOX_PORT).`,
    );
  });

  it("refuses live-mode Stripe keys", async () => {
    running = start(await ports(), { STRIPE_SECRET_KEY: "sk_live_abc" });
    expect(await running.exited).toBe(1);
    expect(running.output()).toContain("npm start refuses live-mode Stripe keys");
  });
});
