/**
 * The command lines of the drop drill: `npm run trigger -- drop` refuses what it cannot do before buying anything, and
 * `npm start` refuses limits it cannot enforce. (The drill itself runs in tests/e2e/drop.test.ts.)
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports.ts";
import { triggerCommand } from "../../dev/trigger.ts";
import { runScripted } from "../support/io.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** `npm run trigger -- <argv>` in the project, with `env` as the whole environment and no running stack. */
const trigger = (argv: string[], env: Record<string, string> = {}) =>
  runScripted(triggerCommand(), { argv, env, cwd: ROOT, workDir: `${ROOT}/.linkshop-none` });

describe("npm run trigger -- drop", () => {
  it("takes only its own options, and refuses its own on other events (exit 2, nothing done)", async () => {
    const withEmail = await trigger(["drop", "--orders", "5", "--email", "a@example.com"]);
    expect(withEmail.code).toBe(2);
    expect(withEmail.text()).toContain(
      "drop takes --orders, --seconds, --product and --stripe-url, not --email",
    );
    const onCheckout = await trigger(["checkout.session.completed", "--orders", "5"]);
    expect(onCheckout.code).toBe(2);
    expect(onCheckout.text()).toContain("--orders and --seconds only go with drop");
  });

  it("checks its numbers and its product against catalog.json", async () => {
    const zero = await trigger(["drop", "--orders", "0"]);
    expect(zero.code).toBe(2);
    expect(zero.text()).toContain('--orders must be a whole number from 1 to 1000, got "0"');
    const unknown = await trigger(["drop", "--product", "no-such-thing"]);
    expect(unknown.code).toBe(2);
    expect(unknown.text()).toContain('--product "no-such-thing" is not in');
  });

  it("needs the local outbox and emulator, and says so", async () => {
    const realResend = await trigger(["drop", "--orders", "1"], { RESEND_API_KEY: "re_real" });
    expect(realResend.code).toBe(2);
    expect(realResend.text()).toContain("The drop drill counts receipts in the local outbox");
    const port = await freePort();
    const nobody = await trigger(["drop", "--orders", "1", "--seconds", "0"], {
      LINKSHOP_STRIPE_PORT: String(port),
    });
    expect(nobody.code).toBe(1);
    expect(nobody.text()).toContain(`No Stripe emulator at http://127.0.0.1:${port}`);
  });

  it("lists the drill in its help", async () => {
    const help = await trigger(["--help"]);
    expect(help.code).toBe(0);
    expect(help.text()).toContain("npm run trigger -- drop [--orders <n>] [--seconds <s>] [--product <id>]");
  });
});

describe("npm start's email limits", () => {
  const start = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; output: string }>((done) => {
      execFile(
        process.execPath,
        ["--import", TSX, resolve(ROOT, "scripts/start.ts"), ...args],
        { cwd: ROOT, env: { ...process.env, ...env } },
        (error, stdout, stderr) =>
          done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });

  it("refuses a rate or quota that is not a whole number, naming the flag and the variable (exit 2)", async () => {
    const rate = await start(["--email-rate", "fast"]);
    expect(rate.code).toBe(2);
    expect(rate.output).toContain(
      'email-rate must be a whole number from 0 (no limit) to 99, got "fast" (--email-rate or LINKSHOP_OUTBOX_RATE)',
    );
    const quota = await start([], { LINKSHOP_OUTBOX_DAILY_QUOTA: "-1" });
    expect(quota.code).toBe(2);
    expect(quota.output).toContain("LINKSHOP_OUTBOX_DAILY_QUOTA");
  });

  it("describes both in its help", async () => {
    const help = await start(["--help"]);
    expect(help.code).toBe(0);
    expect(help.output).toContain("--email-rate <n>");
    expect(help.output).toContain("--email-daily-quota <n>");
  });
});
