// Cursor pagination (`limit`, `starting_after`, `ending_before`), `created` filters and `expand[]`.
import { invalidParam, resourceMissing, StripeError } from "./errors.ts";
import type { ListObject } from "./objects.ts";
import type { Params } from "./params.ts";

/** Standard list params every list endpoint accepts. */
export const LIST_PARAMS = ["limit", "starting_after", "ending_before", "expand"] as const;

/**
 * One page of `items` (already in the order the API lists them) per Stripe's cursor rules: `starting_after`
 * gives the items after that id, `ending_before` the `limit` items just before it, in the same order.
 */
export function paginate<T extends { id: string }>(
  items: readonly T[],
  params: Params,
  url: string,
  objectName: string,
): ListObject<T> {
  const limit = params.integer("limit") ?? 10;
  if (limit < 1)
    throw invalidParam("limit", "This value must be greater than or equal to 1.", "integer_too_small");
  if (limit > 100)
    throw invalidParam("limit", "This value must be less than or equal to 100.", "integer_too_large");
  const startingAfter = params.string("starting_after");
  const endingBefore = params.string("ending_before");
  if (startingAfter && endingBefore) {
    throw new StripeError(
      400,
      "You may only specify one of these parameters: ending_before, starting_after.",
      {
        param: "ending_before",
      },
    );
  }
  const indexOf = (id: string, param: string): number => {
    const index = items.findIndex((item) => item.id === id);
    if (index < 0) throw resourceMissing(objectName, id, param, 400);
    return index;
  };
  if (endingBefore) {
    const end = indexOf(endingBefore, "ending_before");
    const start = Math.max(0, end - limit);
    return { object: "list", data: items.slice(start, end), has_more: start > 0, url };
  }
  const start = startingAfter ? indexOf(startingAfter, "starting_after") + 1 : 0;
  return {
    object: "list",
    data: items.slice(start, start + limit),
    has_more: start + limit < items.length,
    url,
  };
}

/**
 * `objects` (kept in creation order) newest first, as every list endpoint shows them: those whose `created` passes,
 * whose fields equal each filter that was given (a filter left `undefined` keeps everything, like an absent param),
 * and that `keep` keeps.
 */
export function newestMatching<T extends { created: number }>(
  objects: Iterable<T>,
  created: (created: number) => boolean,
  equal: Partial<Record<keyof T, unknown>>,
  keep: (object: T) => boolean = () => true,
): T[] {
  const wanted = Object.entries(equal).filter(([, value]) => value !== undefined) as [keyof T, unknown][];
  return [...objects]
    .reverse()
    .filter(
      (object) =>
        created(object.created) && wanted.every(([field, value]) => object[field] === value) && keep(object),
    );
}

/**
 * A list endpoint of objects about a payment (refunds, disputes): newest first, filtered by `created`, `charge` and
 * `payment_intent`.
 */
export function listOfPayments<
  T extends { id: string; created: number; charge: string; payment_intent: string },
>(objects: Iterable<T>, params: Params, url: string, objectName: string): ListObject<T> {
  params.allowOnly([...LIST_PARAMS, "charge", "payment_intent", "created"]);
  const matching = newestMatching(objects, createdFilter(params), {
    charge: params.string("charge"),
    payment_intent: params.string("payment_intent"),
  } as Partial<Record<keyof T, unknown>>);
  return paginate(matching, params, url, objectName);
}

/** Whether `created` (unix seconds) passes a `created` param: exact value or `created[gt|gte|lt|lte]`. */
export function createdFilter(params: Params): (created: number) => boolean {
  if (!params.has("created")) return () => true;
  const range = params.map("created");
  if (range === undefined) {
    const exact = params.integer("created");
    return (created) => created === exact;
  }
  range.allowOnly(["gt", "gte", "lt", "lte"]);
  const gt = range.integer("gt");
  const gte = range.integer("gte");
  const lt = range.integer("lt");
  const lte = range.integer("lte");
  return (created) =>
    (gt === undefined || created > gt) &&
    (gte === undefined || created >= gte) &&
    (lt === undefined || created < lt) &&
    (lte === undefined || created <= lte);
}

/**
 * Resolves one expandable field of `parent`: returns the expanded value, or undefined when the field
 * cannot be expanded. `current` is the field's present value (an id, or undefined for fields such as a
 * session's `line_items` that exist only when expanded).
 */
export type ExpandResolver = (parent: Record<string, unknown>, field: string, current: unknown) => unknown;

function cannotExpand(path: string): StripeError {
  return invalidParam("expand", `This property cannot be expanded (${path}).`, "parameter_invalid_string");
}

function expandNode(node: unknown, segments: string[], path: string, resolve: ExpandResolver): unknown {
  const [head, ...rest] = segments;
  if (head === undefined || node === null) return node;
  if (Array.isArray(node)) return node.map((item) => expandNode(item, segments, path, resolve));
  if (typeof node !== "object") throw cannotExpand(path);
  const record = node as Record<string, unknown>;
  let value = record[head];
  if (typeof value === "string" || value === undefined) {
    const resolved = resolve(record, head, value);
    if (resolved === undefined) throw cannotExpand(path);
    value = resolved;
  } else if (value !== null && typeof value !== "object") {
    throw cannotExpand(path);
  }
  return { ...record, [head]: expandNode(value, rest, path, resolve) };
}

/** Applies `expand[]` paths (dot-separated, at most 4 levels like Stripe) to a rendered object or list. */
export function expand<T>(value: T, paths: readonly string[] | undefined, resolve: ExpandResolver): T {
  let result: unknown = value;
  for (const path of paths ?? []) {
    const segments = path.split(".");
    if (segments.length > 4) {
      throw invalidParam("expand", `You cannot expand more than 4 levels of a property. Property: ${path}`);
    }
    result = expandNode(result, segments, path, resolve);
  }
  return result as T;
}
