// The Stripe CLI commands npm start prints, and how the emulator recognises a listen session forwarding to the shop.
import { describe, expect, it } from "vitest";
import { forwardUrl, sameLocalServer } from "../../dev/stripe-emulator/listen.ts";
import { stripeCliCommands } from "../../dev/stripe-cli.ts";

describe("stripeCliCommands", () => {
  const commands = stripeCliCommands({
    stripeUrl: "http://127.0.0.1:12111",
    apiKey: "sk_test_linkshop_local",
    webhookUrl: "http://localhost:8888/api/stripe-webhook",
    events: ["checkout.session.completed", "checkout.session.expired"],
  });

  it("listen points at the emulator, names the events and forwards to the shop's webhook", () => {
    expect(commands.listen.join(" ")).toBe(
      "listen --api-base http://127.0.0.1:12111 --api-key sk_test_linkshop_local --events checkout.session.completed,checkout.session.expired --forward-to localhost:8888/api/stripe-webhook",
    );
  });

  it("trigger names the event and points at the emulator", () => {
    expect(commands.trigger("checkout.session.expired")).toEqual([
      "trigger",
      "checkout.session.expired",
      "--api-base",
      "http://127.0.0.1:12111",
      "--api-key",
      "sk_test_linkshop_local",
    ]);
  });
});

describe("forwardUrl reads --forward-to as the CLI does", () => {
  it.each([
    ["8888", "http://localhost:8888/"],
    ["/api/stripe-webhook", "http://localhost/api/stripe-webhook"],
    ["localhost:8888/api/stripe-webhook", "http://localhost:8888/api/stripe-webhook"],
    ["https://shop.example/hook", "https://shop.example/hook"],
  ])("%s -> %s", (input, expected) => {
    expect(forwardUrl(input)?.href).toBe(expected);
  });

  it("has nothing to forward to for an empty value", () => {
    expect(forwardUrl("  ")).toBeNull();
  });
});

describe("sameLocalServer", () => {
  const url = (value: string) => new URL(value);

  it("treats every loopback name as the same host, and compares ports", () => {
    expect(sameLocalServer(url("http://localhost:8888/a"), url("http://127.0.0.1:8888/b"))).toBe(true);
    expect(sameLocalServer(url("http://[::1]:8888/"), url("http://localhost:8888/"))).toBe(true);
    expect(sameLocalServer(url("http://localhost:8888/"), url("http://localhost:8889/"))).toBe(false);
  });

  it("does not confuse another host with the local one", () => {
    expect(sameLocalServer(url("http://shop.example:8888/"), url("http://localhost:8888/"))).toBe(false);
    expect(sameLocalServer(url("http://localhost/"), url("http://localhost:80/"))).toBe(true);
  });
});
