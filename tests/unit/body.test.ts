/** readBodyLimited (src/lib/body.ts): the bytes of a body within a limit, and never much more read than that. */
import { describe, expect, it } from "vitest";
import { readBodyLimited } from "../../src/lib/body.ts";

/** A body of `chunks` chunks of 1 KiB, counting how many were pulled. */
function streamed(chunks: number, headers: Record<string, string> = {}) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(1024).fill(97));
    },
  });
  // A streamed request body needs `duplex` (Node's fetch), which TypeScript's DOM types do not list yet.
  const init: RequestInit & { duplex: "half" } = { method: "POST", body, headers, duplex: "half" };
  const req = new Request("https://shop.example/orders", init);
  return { req, pulled: () => pulled };
}

describe("readBodyLimited", () => {
  it("returns the exact bytes of a body within the limit", async () => {
    const req = new Request("https://shop.example/orders", {
      method: "POST",
      body: "email=jo%40example.com",
    });
    expect(new TextDecoder().decode(await readBodyLimited(req, 2048))).toBe("email=jo%40example.com");
  });

  it("stops reading as soon as a body without a declared length passes the limit", async () => {
    const body = streamed(1024);
    expect(await readBodyLimited(body.req, 2048)).toBeUndefined();
    expect(body.pulled()).toBeLessThanOrEqual(4);
  });

  it("refuses a body whose declared length is over the limit without reading it", async () => {
    const body = streamed(1024, { "content-length": String(1024 * 1024) });
    expect(await readBodyLimited(body.req, 2048)).toBeUndefined();
    expect(body.pulled()).toBeLessThanOrEqual(1);
  });

  it("counts bytes, not characters", async () => {
    const text = "é".repeat(1500); // 3,000 bytes in UTF-8
    const req = new Request("https://shop.example/orders", { method: "POST", body: text });
    expect(await readBodyLimited(req, 2048)).toBeUndefined();
  });
});
