/**
 * The layout's rules, read from the imports themselves (README, "Where things live"): floors only import
 * downwards, the functions never load the tooling wing or the development stand-ins, and nothing imports in a cycle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const TOP_FOLDERS = ["netlify", "src", "scripts", "dev", "tests", "bench"];

/** Every TypeScript file of the project, relative to the root with `/` separators. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== "fixtures" && entry.name !== "node_modules") walk(path);
      else if (entry.isFile() && entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const folder of TOP_FOLDERS) walk(folder);
  return files.sort();
}

/** file -> the packages it imports (`stripe`, `@upstash/redis`, `node:fs`...), type-only imports left out. */
const packages = new Map<string, string[]>();

/** file -> the project files it imports (static, type-only and dynamic imports alike), as TypeScript reads them. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = readFileSync(join(root, file), "utf8");
    const { importedFiles } = ts.preProcessFile(source, true, true);
    const typeOnly = new Set(
      [...source.matchAll(/import type [^;]*? from "([^"]+)"/g)].map((match) => match[1]),
    );
    packages.set(
      file,
      importedFiles
        .map(({ fileName }) => fileName)
        .filter((spec) => !spec.startsWith(".") && !typeOnly.has(spec)),
    );
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) =>
        relative(root, resolve(root, dirname(file), spec))
          .split("\\")
          .join("/"),
      )
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The floors of src/, lowest first. A file may import its own floor or any lower one, never a higher one. The runtime
 * wing ends at app.ts (what a function loads); the tooling wing (site, commands) stands above it and may use it.
 */
const FLOORS: [floor: number, prefixes: string[]][] = [
  [0, ["src/lib/"]],
  [1, ["src/order/", "src/shop/", "src/i18n/"]],
  [2, ["src/email/", "src/config.ts"]],
  [3, ["src/fulfilment/", "src/stock/sales.ts"]],
  [4, ["src/adapters/"]],
  [
    5,
    ["src/webhook/", "src/order-status/", "src/reconcile/", "src/download/", "src/stock/", "src/customer/"],
  ],
  [
    6,
    [
      "src/app/services.ts",
      "src/app/catalog.ts",
      "src/app/environment.ts",
      "src/app/mail.ts",
      "src/app/core.ts",
    ],
  ],
  [7, ["src/app/"]],
  [8, ["src/site/"]],
  [9, ["src/commands/"]],
];

function floorOf(file: string): number | undefined {
  return FLOORS.find(([, prefixes]) => prefixes.some((prefix) => file.startsWith(prefix)))?.[0];
}

/** Every file reachable from `starts`. */
function reachable(graph: Map<string, string[]>, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...(graph.get(file) ?? []));
  }
  return seen;
}

/** The import cycles, as strongly connected components of more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.get(file)?.includes(file)) found.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** The imports inside src/ that climb to a higher floor, as `from -> to`. */
function climbs(arrows: { from: string; to: string }[]): string[] {
  return arrows
    .filter(({ from, to }) => from.startsWith("src/") && to.startsWith("src/"))
    .filter(({ from, to }) => (floorOf(to) ?? -1) > (floorOf(from) ?? -1))
    .map(({ from, to }) => `${from} -> ${to}`);
}

const files = sourceFiles();
const graph = importGraph(files);
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

describe("the layout", () => {
  it("reads the whole project", () => {
    // Guards the rules below against passing vacuously: the graph must see the files and arrows that exist.
    expect(files).toContain("src/app/webhook.ts");
    expect(files).toContain("netlify/functions/stripe-webhook.ts");
    expect(edges).toContainEqual({ from: "src/app/webhook.ts", to: "src/app/services.ts" });
    expect(edges.length).toBeGreaterThan(100);
  });

  it("places every file of src/ on a floor", () => {
    expect(files.filter((file) => file.startsWith("src/") && floorOf(file) === undefined)).toEqual([]);
  });

  it("never imports upwards inside src/", () => {
    expect(climbs(edges)).toEqual([]);
  });

  it("keeps the tooling wing, the stand-ins, tests and scripts out of what a function loads", () => {
    const functions = files.filter((file) => file.startsWith("netlify/functions/"));
    expect(functions.length).toBeGreaterThanOrEqual(3);
    const loaded = [...reachable(graph, functions)];
    const outside = loaded.filter((file) => !file.startsWith("netlify/") && !file.startsWith("src/"));
    const tooling = loaded.filter((file) => file.startsWith("src/site/") || file.startsWith("src/commands/"));
    expect([...outside, ...tooling]).toEqual([]);
  });

  it.each([
    ["download", "src/download/handler.ts", ["stripe", "resend"]],
    ["order-status", "src/order-status/handler.ts", ["stripe", "resend"]],
    ["stock", "src/stock/handler.ts", ["stripe", "resend"]],
    // The customer's pages send (the drain after a sign-in request), so only the Stripe SDK stays out.
    ["customer", "src/customer/handler.ts", ["stripe"]],
  ])("keeps %s's function free of the SDKs it does not use", (name, handler, kept) => {
    const loaded = [...reachable(graph, [`netlify/functions/${name}.ts`])];
    expect(loaded).toContain(handler);
    const sdks = loaded.flatMap((file) =>
      (packages.get(file) ?? []).filter((name) => kept.includes(name)).map((name) => `${file}: ${name}`),
    );
    expect(sdks).toEqual([]);
    // And the check sees an SDK where there is one.
    expect(packages.get("src/adapters/stripe.ts")).toContain("stripe");
  });

  it("keeps src/ and the production build free of dev/, tests/ and bench/", () => {
    const build = ["scripts/build.ts", "scripts/build-site.ts", "scripts/build-functions.ts"];
    const product = files.filter((file) => file.startsWith("src/") || build.includes(file));
    const loaded = [...reachable(graph, product)];
    expect(loaded.filter((file) => /^(dev|tests|bench)\//.test(file))).toEqual([]);
  });

  it("keeps bench/ and dev/ free of tests/", () => {
    const tooling = files.filter((file) => file.startsWith("bench/") || file.startsWith("dev/"));
    expect(
      edges
        .filter(({ from, to }) => tooling.includes(from) && to.startsWith("tests/"))
        .map(({ from }) => from),
    ).toEqual([]);
  });

  it("has no import cycles anywhere", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle and a climb when there is one", () => {
    // The checks themselves, on a small graph with both faults.
    const faulty = new Map([
      ["src/order/a.ts", ["src/webhook/b.ts"]],
      ["src/webhook/b.ts", ["src/order/a.ts"]],
    ]);
    expect(cycles(faulty)).toEqual([["src/order/a.ts", "src/webhook/b.ts"]]);
    const arrows = [...faulty].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));
    expect(climbs(arrows)).toEqual(["src/order/a.ts -> src/webhook/b.ts"]);
  });
});
