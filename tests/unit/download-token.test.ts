import { describe, expect, it } from "vitest";
import { fileId, grantFor, signDownload, verifyDownload } from "../../src/order/downloads.ts";

const SECRET = "dls_test_0123456789abcdef0123456789abcdef";
const SESSION = "cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456789abcdefghij";
const NOW = Date.UTC(2026, 11, 4, 12);
const file = { id: fileId("trail-maps", "trail-maps.pdf") };

describe("download links", () => {
  it("name a file by a stable 16-hex id of its product and path", () => {
    expect(file.id).toMatch(/^[0-9a-f]{16}$/);
    expect(fileId("trail-maps", "trail-maps.pdf")).toBe(file.id);
    expect(fileId("trail-maps", "other.pdf")).not.toBe(file.id);
    expect(fileId("other", "trail-maps.pdf")).not.toBe(file.id);
  });

  it("verify what they were signed for, until the expiry", () => {
    const grant = grantFor(SESSION, file, NOW, 30);
    expect(grant.expiresAt).toBe(NOW / 1000 + 30 * 86_400);
    const token = signDownload(grant, SECRET);
    expect(token).toMatch(/^cs_test_\w+\.[0-9a-f]{16}\.\d+\.[\w-]{43}$/);
    expect(verifyDownload(token, SECRET, NOW)).toEqual({ grant });
    expect(verifyDownload(token, SECRET, grant.expiresAt * 1000 - 1)).toEqual({ grant });
  });

  it("say expired, still naming the order, once the date has passed", () => {
    const grant = grantFor(SESSION, file, NOW, 1);
    const token = signDownload(grant, SECRET);
    expect(verifyDownload(token, SECRET, grant.expiresAt * 1000)).toEqual({ problem: "expired", grant });
  });

  it("are invalid when any single character changes", () => {
    const token = signDownload(grantFor(SESSION, file, NOW, 30), SECRET);
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
    for (let i = 0; i < token.length; i++) {
      const original = token[i] as string;
      const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length] as string;
      const altered = token.slice(0, i) + replacement + token.slice(i + 1);
      expect(verifyDownload(altered, SECRET, NOW), `character ${i}`).toEqual({ problem: "invalid" });
    }
  });

  it("are invalid with another secret, cut short, extended or malformed", () => {
    const token = signDownload(grantFor(SESSION, file, NOW, 30), SECRET);
    expect(verifyDownload(token, `${SECRET}x`, NOW)).toEqual({ problem: "invalid" });
    expect(verifyDownload(token.slice(0, -1), SECRET, NOW)).toEqual({ problem: "invalid" });
    expect(verifyDownload(`${token}A`, SECRET, NOW)).toEqual({ problem: "invalid" });
    expect(verifyDownload(`${token}.x`, SECRET, NOW)).toEqual({ problem: "invalid" });
    for (const junk of ["", ".", "...", "a.b.c.d", "<script>.x.1.y"])
      expect(verifyDownload(junk, SECRET, NOW)).toEqual({ problem: "invalid" });
  });

  it("bind the order and the file: a signature does not carry over to another", () => {
    const grant = grantFor(SESSION, file, NOW, 30);
    const signature = signDownload(grant, SECRET).split(".")[3];
    const otherFile = [SESSION, fileId("trail-maps", "other.pdf"), grant.expiresAt, signature].join(".");
    const otherOrder = [`${SESSION.slice(0, -1)}X`, file.id, grant.expiresAt, signature].join(".");
    const later = [SESSION, file.id, grant.expiresAt + 86_400, signature].join(".");
    for (const forged of [otherFile, otherOrder, later])
      expect(verifyDownload(forged, SECRET, NOW)).toEqual({ problem: "invalid" });
  });
});
