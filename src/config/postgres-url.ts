// The check of a "postgres" backend's database URL, shared by the `store`
// section (config.ts) and each export (exports.ts).

/**
 * Why `url` (the value of `key`) cannot serve `backend`, or null: the
 * "postgres" backend needs a postgres:// URL; the others take none.
 */
export function checkPostgresUrl(key: string, url: string, backend: string): string | null {
  if (backend !== "postgres")
    return url === "" ? null : `'${key}' is for the "postgres" backend only`;
  if (url === "")
    return `the "postgres" backend needs '${key}', e.g. "postgres://dfs:secret@127.0.0.1:5432/dfs"`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `'${key}' is not a URL`;
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
    return `'${key}' must be a postgres:// or postgresql:// URL, not ${parsed.protocol}//…`;
  return null;
}
