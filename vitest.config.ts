import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Integration and end-to-end suites start local servers and `netlify dev`; these are ceilings, not timings.
    // A loaded 2-core machine can be several times slower than an idle one; nothing waits for these when it works.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: {
          name: "default",
          include: ["tests/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "tests/e2e/**"],
        },
      },
      {
        extends: true,
        // Each e2e file runs `netlify dev` in the project folder, and every start of it empties the shared
        // `.netlify/functions-serve` there, breaking the functions of one already running: one file at a time.
        test: { name: "e2e", include: ["tests/e2e/**/*.test.ts"], fileParallelism: false },
      },
    ],
  },
});
