/**
 * The functions as `netlify build` packages them: one bundled file per function, no node_modules, each function's
 * path, method and schedule still read from its source, and no payment or email SDK where a function needs none.
 * Runs the real packaging (`netlify build --offline`) in a copy of the project.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { listFunctions } from "@netlify/zip-it-and-ship-it";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NetlifyBuild, type PackagedFunction, netlifyBuildCopy } from "../../dev/netlify-build.ts";
import { type FunctionBundle, buildFunctions, functionEntries } from "../../src/site/functions.ts";

const root = resolve(import.meta.dirname, "../..");
/** What Netlify adds to every archive: its entry point, bootstrap, telemetry and metadata. */
const isNetlifyFile = (name: string) => name.startsWith("___netlify-");
/** The payment and email SDKs among a bundle's inputs, by package name. */
const sdksIn = (inputs: string[]): string[] => [
  ...new Set(inputs.flatMap((input) => /(?:^|\/)node_modules\/(stripe|resend)\//.exec(input)?.[1] ?? [])),
];
/** esbuild heads each module it inlines with a comment naming its path; these name an SDK's files. */
const SDK_MODULE = /^\/\/ \S*node_modules\/(stripe|resend)\//m;

let built: NetlifyBuild;
/** The same bundles built again apart, with esbuild's record of what went into each. */
let bundles: FunctionBundle[];

beforeAll(async () => {
  built = await netlifyBuildCopy(root);
  bundles = await buildFunctions({ root: built.project, outDir: join(built.project, "bundles-again") });
});

afterAll(async () => {
  await built?.remove();
});

const packaged = (name: string): PackagedFunction => {
  const fn = built.functions.find((candidate) => candidate.name === name);
  if (!fn) throw new Error(`netlify build packaged no ${name}`);
  return fn;
};
const packagedCode = (name: string): string => {
  const file = packaged(name).files[`${name}.mjs`];
  if (!file) throw new Error(`No ${name}.mjs in the archive of ${name}`);
  return new TextDecoder().decode(file);
};
const bundleOf = (name: string): FunctionBundle => {
  const bundle = bundles.find((candidate) => candidate.name === name);
  if (!bundle) throw new Error(`No bundle for ${name}`);
  return bundle;
};

describe("netlify build --offline", () => {
  it("packages every function of netlify/functions/, each as one file Netlify ships as it is", async () => {
    const names = [...(await functionEntries(built.project)).keys()].sort();
    expect(names).toEqual(
      expect.arrayContaining(["download", "order-status", "reconcile", "stripe-webhook"]),
    );
    expect(built.functions.map(({ name }) => name)).toEqual(names);
    for (const { name, bundler, mainFile, files } of built.functions) {
      expect({ name, bundler, mainFile }).toEqual({ name, bundler: "none", mainFile: `${name}.mjs` });
      const own = Object.keys(files).filter((file) => !isNetlifyFile(file));
      expect({ name, files: own }).toEqual({ name, files: [`${name}.mjs`] });
      expect(Object.keys(files).filter((file) => file.includes("node_modules"))).toEqual([]);
    }
  });

  it("ships exactly the bundle the build made", async () => {
    for (const { name } of built.functions) {
      const file = await readFile(join(built.project, "build/functions", `${name}.mjs`), "utf8");
      expect(packagedCode(name) === file, `${name}.mjs as packaged`).toBe(true);
      // A build of its own gives the same file, so its record of inputs describes what ships.
      expect(file === (await readFile(bundleOf(name).file, "utf8")), `${name}.mjs built again`).toBe(true);
    }
  });

  it("keeps each function's path, method and schedule as its source declares them", async () => {
    const declared = await listFunctions(join(built.project, "netlify/functions"), { parseISC: true });
    const routing = (fn: {
      name: string;
      schedule?: string;
      routes?: { pattern: string; methods?: string[] }[];
    }) => ({
      name: fn.name,
      schedule: fn.schedule,
      routes: (fn.routes ?? []).map(({ pattern, methods }) => ({ pattern, methods: methods ?? [] })),
    });
    expect(built.functions.map(routing)).toEqual(
      declared.map(routing).sort((a, b) => a.name.localeCompare(b.name)),
    );
    // The comparison sees routes and schedules where there are some.
    expect(packaged("stripe-webhook").routes).toEqual([
      { pattern: "/api/stripe-webhook", methods: ["POST"] },
    ]);
    expect(packaged("reconcile").schedule).toBe("@hourly");
  });

  it("ships the download function without the Stripe and Resend SDKs", () => {
    expect(sdksIn(bundleOf("download").inputs)).toEqual([]);
    expect(packagedCode("download")).not.toMatch(SDK_MODULE);
    // Both checks see an SDK where there is one.
    expect(sdksIn(bundleOf("stripe-webhook").inputs).sort()).toEqual(["resend", "stripe"]);
    expect(packagedCode("stripe-webhook")).toMatch(SDK_MODULE);
  });

  it("ships the order-status function without the Stripe and Resend SDKs", () => {
    expect(sdksIn(bundleOf("order-status").inputs)).toEqual([]);
    expect(packagedCode("order-status")).not.toMatch(SDK_MODULE);
  });
});
