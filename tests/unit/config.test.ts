import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../src/config.ts";

const valid = {
  STRIPE_SECRET_KEY: "sk_test_123",
  STRIPE_WEBHOOK_SECRET: "whsec_abc",
  UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "token",
  RESEND_API_KEY: "re_123",
  EMAIL_FROM: "Shop <orders@shop.example>",
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("readConfig accepted the environment");
}

describe("readConfig", () => {
  it("names every missing variable in one message", () => {
    expect(errorOf({}).message).toBe(
      "Missing STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, RESEND_API_KEY, EMAIL_FROM (see .env.example)",
    );
  });

  it("names malformed variables with the rule, never the value", () => {
    const error = errorOf({
      ...valid,
      STRIPE_WEBHOOK_SECRET: "sk_test_wrong_one",
      UPSTASH_REDIS_REST_URL: "redis://localhost:6379",
      EMAIL_FROM: "not an address",
      MERCHANT_EMAIL: "owner",
      RESEND_API_KEY: "",
    });
    expect(error.message).toBe(
      "Missing RESEND_API_KEY; Malformed STRIPE_WEBHOOK_SECRET (must start with whsec_), UPSTASH_REDIS_REST_URL (must be an http(s) URL), EMAIL_FROM (must be an address or `Name <address>`), MERCHANT_EMAIL (must be an email address) (see .env.example)",
    );
    expect(error.message).not.toContain("sk_test_wrong_one");
  });

  it("trims pasted whitespace and newlines from every value", () => {
    const config = readConfig({
      ...valid,
      STRIPE_WEBHOOK_SECRET: " whsec_abc\r\n",
      STRIPE_SECRET_KEY: "sk_test_123\n",
      EMAIL_FROM: "  Fern & Fig <orders@shop.example>  ",
    });
    expect(config.stripeWebhookSecret).toBe("whsec_abc");
    expect(config.stripeSecretKey).toBe("sk_test_123");
    expect(config.emailFrom).toBe("Fern & Fig <orders@shop.example>");
  });

  it("treats blank optional variables as unset and applies defaults", () => {
    const config = readConfig({ ...valid, MERCHANT_EMAIL: "  ", URL: "", STRIPE_API_BASE: "" });
    expect(config.merchantEmail).toBeUndefined();
    expect(config.stripeApiBase).toBeUndefined();
    expect(config.siteUrl).toBeUndefined();
  });

  it("reads the optional variables", () => {
    const config = readConfig({
      ...valid,
      MERCHANT_EMAIL: "owner@shop.example",
      STRIPE_API_BASE: "http://127.0.0.1:12111",
      URL: "https://shop.example",
    });
    expect(config.merchantEmail).toBe("owner@shop.example");
    expect(config.stripeApiBase?.port).toBe("12111");
    expect(config.siteUrl).toBe("https://shop.example");
    expect(readConfig({ ...valid, EMAIL_FROM: "orders@shop.example" }).emailFrom).toBe("orders@shop.example");
  });

  it("fulfils only the catalog's sessions by default, and reads the wider settings", () => {
    expect(readConfig(valid)).toMatchObject({ sessionScope: "shop", redisPrefix: "linkshop:" });
    expect(readConfig({ ...valid, LINKSHOP_FULFIL_SESSIONS: " all " }).sessionScope).toBe("all");
    expect(readConfig({ ...valid, LINKSHOP_FULFIL_SESSIONS: "payment_links" }).sessionScope).toBe(
      "payment_links",
    );
    expect(readConfig({ ...valid, LINKSHOP_REDIS_PREFIX: "shop2:" }).redisPrefix).toBe("shop2:");
    expect(errorOf({ ...valid, LINKSHOP_FULFIL_SESSIONS: "everything" }).message).toBe(
      "Malformed LINKSHOP_FULFIL_SESSIONS (must be shop, payment_links or all) (see .env.example)",
    );
    expect(errorOf({ ...valid, LINKSHOP_REDIS_PREFIX: "a b" }).message).toContain(
      "Malformed LINKSHOP_REDIS_PREFIX",
    );
  });
});
