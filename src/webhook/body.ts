/** Reads a request body into bytes, refusing to buffer more than a limit. */

/** Stripe events are a few KiB; 1 MiB leaves room for the largest sessions. Bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The exact bytes sent, or undefined when the body is larger than `limit` (checked while streaming). */
export async function readBodyLimited(req: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) return undefined;
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
