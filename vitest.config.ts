import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Integration and end-to-end suites start local servers and `netlify dev`; these are ceilings, not timings.
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
