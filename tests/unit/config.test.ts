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
  describe("a live key never travels in clear text", () => {
    const live = { ...valid, STRIPE_SECRET_KEY: "sk_live_51Secret" };

    it.each(["sk_live_51Secret", "rk_live_51Secret", " sk_live_51Secret\n"])(
      "refuses an http STRIPE_API_BASE with %j, naming the rule and never the values",
      (key) => {
        const error = errorOf({
          ...live,
          STRIPE_SECRET_KEY: key,
          STRIPE_API_BASE: "http://stripe.internal:12111",
        });
        expect(error.message).toBe(
          "Malformed STRIPE_API_BASE (must be https with a live key) (see .env.example)",
        );
        expect(error.malformed).toEqual(new Map([["STRIPE_API_BASE", "must be https with a live key"]]));
        expect(error.message).not.toMatch(/stripe\.internal|51Secret/);
      },
    );

    it("refuses an http Upstash URL with a live key too (the REST token goes with every request)", () => {
      expect(errorOf({ ...live, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:54321" }).message).toBe(
        "Malformed UPSTASH_REDIS_REST_URL (must be https with a live key) (see .env.example)",
      );
    });

    it("lists it with the other problems, in the usual order", () => {
      const error = errorOf({
        ...live,
        RESEND_API_KEY: "",
        UPSTASH_REDIS_REST_URL: "http://127.0.0.1:54321",
        STRIPE_API_BASE: "http://127.0.0.1:12111",
        EMAIL_FROM: "not an address",
      });
      expect(error.message).toBe(
        "Missing RESEND_API_KEY; Malformed UPSTASH_REDIS_REST_URL (must be https with a live key), EMAIL_FROM (must be an address or `Name <address>`), STRIPE_API_BASE (must be https with a live key) (see .env.example)",
      );
    });

    it("accepts https with a live key, and http with a test key (local emulator and bridge)", () => {
      expect(
        readConfig({ ...live, STRIPE_API_BASE: "https://stripe-proxy.example" }).stripeApiBase?.href,
      ).toBe("https://stripe-proxy.example/");
      const local = readConfig({
        ...valid,
        UPSTASH_REDIS_REST_URL: "http://127.0.0.1:54321",
        STRIPE_API_BASE: "http://127.0.0.1:12111",
      });
      expect([local.upstashUrl, local.stripeApiBase?.protocol]).toEqual(["http://127.0.0.1:54321", "http:"]);
    });

    it("reports only the key when the key itself is malformed", () => {
      expect(
        errorOf({ ...valid, STRIPE_SECRET_KEY: "pk_live_1", STRIPE_API_BASE: "http://127.0.0.1:12111" })
          .message,
      ).toBe(
        "Malformed STRIPE_SECRET_KEY (must start with sk_test_, sk_live_, rk_test_ or rk_live_) (see .env.example)",
      );
    });
  });
});
