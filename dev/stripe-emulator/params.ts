// Stripe's form encoding (`a[b][0][c]=v`) parsed into nested values, plus typed readers that fail like Stripe.
import { invalidParam, missingParam, unknownParam } from "./errors.ts";

/** A decoded form value: a string, or a nested map/list built from bracketed keys. */
export type ParamValue = string | ParamValue[] | { [key: string]: ParamValue };
type ParamMap = { [key: string]: ParamValue };

// Keys that would reach Object.prototype if used as plain property names.
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0 || !key.endsWith("]")) return [key];
  const head = key.slice(0, open);
  const inner = key.slice(open + 1, -1);
  return [head, ...inner.split("][")];
}

function isMap(value: ParamValue | undefined): value is ParamMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The SDK sends arrays as `a[0]=`, `a[1]=`: a map whose keys are all indices reads as a list, in index order.
// Done on read, not while parsing, so metadata keys such as "0" stay keys.
function asList(value: ParamValue): ParamValue[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return undefined;
  const keys = Object.keys(value);
  if (!keys.every((key) => /^\d+$/.test(key))) return undefined;
  return keys
    .map(Number)
    .sort((a, b) => a - b)
    .map((index) => value[String(index)] as ParamValue);
}

/** Parses an `application/x-www-form-urlencoded` string or query string into nested params. */
export function parseForm(encoded: string): Params {
  const root: ParamMap = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const path = splitKey(rawKey);
    let node: ParamMap = root;
    for (let depth = 0; depth < path.length; depth += 1) {
      let segment = path[depth] as string;
      if (FORBIDDEN_KEYS.has(segment)) throw invalidParam(rawKey, `Invalid parameter name: ${rawKey}`);
      // `a[]=x` appends, like qs does.
      if (segment === "") segment = String(Object.keys(node).length);
      const last = depth === path.length - 1;
      const existing = node[segment];
      if (last) {
        if (existing !== undefined && typeof existing !== "string") {
          throw invalidParam(rawKey, `Invalid value for ${rawKey}: it is both a value and a hash.`);
        }
        node[segment] = value;
      } else {
        if (existing === undefined) {
          const child: ParamMap = {};
          node[segment] = child;
          node = child;
        } else if (isMap(existing)) {
          node = existing;
        } else {
          throw invalidParam(rawKey, `Invalid value for ${rawKey}: it is both a value and a hash.`);
        }
      }
    }
  }
  return new Params(root, "");
}

/** Read-only access to decoded params; every reader throws a Stripe 400 naming the full parameter. */
export class Params {
  readonly #values: ParamMap;
  readonly #prefix: string;

  constructor(values: ParamMap, prefix: string) {
    this.#values = values;
    this.#prefix = prefix;
  }

  /** The full Stripe name of a key below this level, e.g. `line_items[0][price]`. */
  name(key: string): string {
    return this.#prefix === "" ? key : `${this.#prefix}[${key}]`;
  }

  has(key: string): boolean {
    return this.#values[key] !== undefined;
  }

  keys(): string[] {
    return Object.keys(this.#values);
  }

  /** Rejects keys outside `allowed`, as Stripe does for unknown parameters. */
  allowOnly(allowed: readonly string[]): void {
    for (const key of this.keys()) {
      if (!allowed.includes(key)) throw unknownParam(this.name(key));
    }
  }

  /** The decoded value as sent, for nested params stored verbatim. */
  raw(key: string): ParamValue | undefined {
    return this.#values[key];
  }

  /** A string value, or undefined when absent. */
  string(key: string): string | undefined {
    const value = this.#values[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw invalidParam(this.name(key), `Invalid string: ${this.name(key)}`);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === "") throw missingParam(this.name(key));
    return value;
  }

  /** For updatable nullable fields: undefined = leave as is, "" = unset (null), else the value. */
  nullableString(key: string): string | null | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    return value === "" ? null : value;
  }

  integer(key: string): number | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value))
      throw invalidParam(this.name(key), `Invalid integer: ${value}`, "parameter_invalid_integer");
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed)) {
      throw invalidParam(this.name(key), `Invalid integer: ${value}`, "parameter_invalid_integer");
    }
    return parsed;
  }

  boolean(key: string): boolean | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (value === "true") return true;
    if (value === "false") return false;
    throw invalidParam(this.name(key), `Invalid boolean: ${value}`);
  }

  /** A nested hash, or undefined when absent; `key=` (empty) also reads as undefined. */
  map(key: string): Params | undefined {
    const value = this.#values[key];
    if (value === undefined || value === "") return undefined;
    if (!isMap(value)) throw invalidParam(this.name(key), `Invalid hash: ${this.name(key)}`);
    return new Params(value, this.name(key));
  }

  /** A list of hashes (e.g. `line_items`), empty when absent. */
  mapList(key: string): Params[] {
    const value = this.#values[key];
    if (value === undefined || value === "") return [];
    const list = asList(value);
    if (!list) throw invalidParam(this.name(key), `Invalid array: ${this.name(key)}`);
    return list.map((item, index) => {
      const name = `${this.name(key)}[${index}]`;
      if (!isMap(item)) throw invalidParam(name, `Invalid hash: ${name}`);
      return new Params(item, name);
    });
  }

  /** A list of strings (e.g. `expand`, `enabled_events`), undefined when absent. */
  stringList(key: string): string[] | undefined {
    const value = this.#values[key];
    if (value === undefined) return undefined;
    if (value === "") return [];
    const list = typeof value === "string" ? [value] : asList(value);
    if (!list) throw invalidParam(this.name(key), `Invalid array: ${this.name(key)}`);
    return list.map((item, index) => {
      if (typeof item !== "string") {
        throw invalidParam(`${this.name(key)}[${index}]`, `Invalid string: ${this.name(key)}[${index}]`);
      }
      return item;
    });
  }

  /**
   * Metadata as sent: undefined when absent, null for `metadata=` (clear all), else key -> value where an
   * empty value means "delete this key" on update.
   */
  metadata(key = "metadata"): Record<string, string> | null | undefined {
    const value = this.#values[key];
    if (value === undefined) return undefined;
    if (value === "") return null;
    if (!isMap(value)) throw invalidParam(this.name(key), `Invalid hash: ${this.name(key)}`);
    const pairs = Object.entries(value);
    const result: Record<string, string> = {};
    for (const [metaKey, metaValue] of pairs) {
      const name = `${this.name(key)}[${metaKey}]`;
      if (typeof metaValue !== "string") throw invalidParam(name, `Invalid string: ${name}`);
      if (metaKey.length > 40) throw invalidParam(name, "Metadata keys can have at most 40 characters.");
      if (metaValue.length > 500)
        throw invalidParam(name, "Metadata values can have at most 500 characters.");
      result[metaKey] = metaValue;
    }
    return result;
  }
}

/** Applies a metadata param the way Stripe does: merge, "" deletes a key, `metadata=` clears everything. */
export function mergeMetadata(
  current: Record<string, string>,
  update: Record<string, string> | null | undefined,
): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === "") delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > 50) {
    throw invalidParam("metadata", "Metadata can have at most 50 keys.");
  }
  return next;
}
