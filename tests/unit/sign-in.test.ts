/** Sign-in links of the customer's pages: the token, the keyed hash it names, the budgets' decision, the email. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signInDecision } from "../../src/customer/handler.ts";
import { renderSignIn } from "../../src/email/sign-in.ts";
import { customerHash, shopKey } from "../../src/order/customers.ts";
import { SIGN_IN_MINUTES, signInGrant, signSignIn, verifySignIn } from "../../src/order/sign-in.ts";
import { testShop } from "../support/fakes.ts";

const SECRET = "sign-in-test-secret-0123456789abcdef";
const NOW = Date.UTC(2026, 11, 4, 12);
const customer = customerHash("Jenny@Example.com", SECRET);
const token = signSignIn(signInGrant(customer, NOW), SECRET);

describe("sign-in tokens", () => {
  it("grant the customer they name for 30 minutes, then are expired", () => {
    expect(verifySignIn(token, SECRET, NOW)).toEqual({
      grant: { customer, expiresAt: NOW / 1000 + SIGN_IN_MINUTES * 60 },
    });
    expect(verifySignIn(token, SECRET, NOW + 30 * 60_000 - 1)).toHaveProperty("grant");
    expect(verifySignIn(token, SECRET, NOW + 30 * 60_000)).toEqual({ problem: "expired" });
  });

  it("carry only the customer's hash and the expiry, never the address", () => {
    const [hash, expires, signature, ...rest] = token.split(".");
    expect(rest).toEqual([]);
    expect(hash).toBe(customer);
    expect(Number(expires)).toBe(NOW / 1000 + 1800);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token.toLowerCase()).not.toContain("jenny");
  });

  it("are invalid after any single character changes", () => {
    const alphabet = "0123456789abcdefABCDEFxyz_-.";
    let tried = 0;
    for (let i = 0; i < token.length; i++) {
      for (const char of alphabet) {
        if (char === token[i]) continue;
        const changed = token.slice(0, i) + char + token.slice(i + 1);
        const result = verifySignIn(changed, SECRET, NOW);
        tried++;
        // A later expiry with a valid signature is impossible; any change is refused outright.
        expect(result, `position ${i} -> ${char}`).toEqual({ problem: "invalid" });
      }
    }
    expect(tried).toBeGreaterThan(token.length * 20);
  });

  it("are invalid when cut, extended, signed with another secret, or with another purpose's key", () => {
    expect(verifySignIn(token.slice(0, -1), SECRET, NOW)).toEqual({ problem: "invalid" });
    expect(verifySignIn(`${token}.x`, SECRET, NOW)).toEqual({ problem: "invalid" });
    expect(verifySignIn("", SECRET, NOW)).toEqual({ problem: "invalid" });
    expect(verifySignIn(token, `${SECRET}x`, NOW)).toEqual({ problem: "invalid" });
    const expires = NOW / 1000 + 1800;
    for (const purpose of ["customers"] as const) {
      const other = createHmac("sha256", shopKey(SECRET, purpose))
        .update(`sign-in:v1:${customer}:${expires}`)
        .digest("base64url");
      expect(verifySignIn(`${customer}.${expires}.${other}`, SECRET, NOW)).toEqual({ problem: "invalid" });
    }
    // The secret itself, unkeyed by purpose, signs nothing either.
    const raw = createHmac("sha256", SECRET).update(`sign-in:v1:${customer}:${expires}`).digest("base64url");
    expect(verifySignIn(`${customer}.${expires}.${raw}`, SECRET, NOW)).toEqual({ problem: "invalid" });
  });
});

describe("the customer's hash", () => {
  it("is the same for an address in any case and with stray spaces, and differs per address and per shop", () => {
    expect(customerHash("  jenny@example.COM ", SECRET)).toBe(customer);
    expect(customerHash("jenny@example.org", SECRET)).not.toBe(customer);
    expect(customerHash("jenny@example.com", `${SECRET}-other`)).not.toBe(customer);
    expect(customer).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("signInDecision", () => {
  const ok = { allowed: true, retryAfterSeconds: 0 };
  const over = (seconds: number) => ({ allowed: false, retryAfterSeconds: seconds });

  it("sends only when both the client's and the address's budgets allow it", () => {
    expect(signInDecision(ok, ok)).toEqual({ send: true });
    expect(signInDecision(over(60), ok)).toEqual({ send: false, retryAfterSeconds: 60, over: "client" });
    expect(signInDecision(ok, over(90))).toEqual({ send: false, retryAfterSeconds: 90, over: "address" });
    expect(signInDecision(over(60), over(90))).toEqual({ send: false, retryAfterSeconds: 90, over: "both" });
  });
});

describe("renderSignIn", () => {
  const url = "https://shop.example/orders/abc.123.sig";

  it.each([
    ["en-US", "Your sign-in link for Fern & Fig", "The link works for 30 minutes"],
    ["de-DE", "Dein Anmeldelink für Fern & Fig", "Der Link gilt 30 Minuten"],
    ["fr-FR", "Votre lien de connexion pour Fern & Fig", "Le lien est valable 30 minutes"],
    ["es-ES", "Tu enlace de acceso a Fern & Fig", "El enlace sirve durante 30 minutos"],
  ])("speaks %s, with the link and its validity in both parts", (locale, subject, validity) => {
    const email = renderSignIn(url, testShop({ name: "Fern & Fig", locale }));
    expect(email.subject).toBe(subject);
    expect(email.text).toContain(url);
    expect(email.text).toContain(validity);
    expect(email.html).toContain(`href="${url}"`);
    expect(email.html).toContain(validity);
    expect(email.html).toContain(`lang="${locale}"`);
  });

  it("escapes the shop's name and the link", () => {
    const email = renderSignIn(`${url}"><script>`, testShop({ name: "<b>Fern</b>" }));
    expect(email.html).not.toContain("<script>");
    expect(email.html).not.toContain("<b>Fern</b>");
    expect(email.html).toContain("&lt;b&gt;Fern&lt;/b&gt;");
    expect(email.html).toContain("&quot;&gt;&lt;script&gt;");
  });
});
