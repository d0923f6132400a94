// The forms a string setting may be required to have, each with the words
// messages use for it and the JSON Schema keywords that say the same.

import { AddressError, parsePrefix } from "../exports/address.js";
import { pathComponents } from "../exports/namespace.js";
import { LISTEN_PATTERN_SOURCE, tryParseListen } from "./listen.js";
import type { StringFormat } from "./schema.js";

/** The longest name of one pseudo-filesystem directory (as a backend's maxNameBytes). */
export const MAX_PATH_COMPONENT_BYTES = 255;

export const LISTEN_ADDRESS: StringFormat = {
  allowed: "HOST:PORT, [IPv6]:PORT or :PORT, e.g. 127.0.0.1:2049",
  check: (v) => (tryParseListen(v) === null ? "not an address" : null),
  jsonSchema: { pattern: LISTEN_PATTERN_SOURCE },
};

/** A listen address, or "" for "off". */
export const OPTIONAL_LISTEN_ADDRESS: StringFormat = {
  allowed: `"" (off) or ${LISTEN_ADDRESS.allowed}`,
  check: (v) => (v === "" ? null : LISTEN_ADDRESS.check(v)),
  jsonSchema: { pattern: `^$|${LISTEN_PATTERN_SOURCE}` },
};

export const CLIENT_ADDRESS: StringFormat = {
  allowed: 'an IPv4/IPv6 address or CIDR prefix, e.g. "10.0.0.0/8" or "::1"',
  check(v) {
    try {
      parsePrefix(v);
      return null;
    } catch (e) {
      if (e instanceof AddressError) return e.message;
      throw e;
    }
  },
  jsonSchema: { pattern: "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$" },
};

export const EXPORT_PATH: StringFormat = {
  allowed: 'an absolute path like "/data" or "/a/b" (not "/")',
  check(v) {
    if (!/^(\/[^/]+)+$/.test(v)) return "not an absolute path";
    for (const c of pathComponents(v))
      if (c === "." || c === ".." || Buffer.byteLength(c) > MAX_PATH_COMPONENT_BYTES)
        return `'${c}' cannot be a directory name`;
    return null;
  },
  jsonSchema: { pattern: "^(/[^/]+)+$" },
};

function urlCheck(protocols: readonly string[]): (v: string) => string | null {
  return (v) => {
    if (v === "") return null;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return "not a URL";
    }
    return protocols.includes(u.protocol) ? null : `its scheme is ${u.protocol}`;
  };
}

export const POSTGRES_URL: StringFormat = {
  allowed:
    '"" or a postgres:// or postgresql:// URL, e.g. "postgres://dfs:secret@127.0.0.1:5432/dfs"',
  check: urlCheck(["postgres:", "postgresql:"]),
  jsonSchema: { pattern: "^$|^postgres(ql)?://" },
};

export const HTTP_URL: StringFormat = {
  allowed: '"" or an http:// or https:// URL, e.g. "http://127.0.0.1:7480"',
  check: urlCheck(["http:", "https:"]),
  jsonSchema: { pattern: "^$|^https?://" },
};

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const S3_BUCKET: StringFormat = {
  allowed: '"" or a bucket name (3-63 lowercase letters, digits, dots and hyphens)',
  check: (v) => (v === "" || BUCKET.test(v) ? null : "not a bucket name"),
  jsonSchema: { pattern: `^$|${BUCKET.source}` },
};
