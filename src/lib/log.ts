/** Structured logging: one JSON object per line, never personal data or secrets. */

/** Fields are ids, codes and numbers only; callers never pass emails, names, addresses or SDK error objects. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type Logger = (event: string, fields?: LogFields) => void;

/** Writes `{"event": ..., ...fields}` to stdout, which Netlify collects as the function log. */
export const jsonLogger: Logger = (event, fields = {}) => {
  console.log(JSON.stringify({ event, ...fields }));
};
