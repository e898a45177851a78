/** Redis in integration tests: which backend they use (the real one in CI, required), and whether one is reachable. */
import { connect } from "node:net";

/** "redis" in CI, where a missing Redis must fail the run; "auto" on a laptop, which falls back to memory. */
export const redisBackend: "redis" | "auto" = process.env.CI ? "redis" : "auto";

/** Whether something accepts TCP connections at the URL's host and port (a refusal is immediate; 5 s ceiling). */
export function canConnect(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || "127.0.0.1", port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(5_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
