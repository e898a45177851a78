/** Which Redis backend integration tests use: the real one in CI (required), else whatever is reachable. */

/** "redis" in CI, where a missing Redis must fail the run; "auto" on a laptop, which falls back to memory. */
export const redisBackend: "redis" | "auto" = process.env.CI ? "redis" : "auto";
