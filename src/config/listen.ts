// Listen addresses as the configuration spells them: "HOST:PORT",
// "[v6]:PORT" or ":PORT" (every address).

import { ConfigError } from "./errors.js";

export interface ListenSpec {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_LISTEN: ListenSpec = { host: "127.0.0.1", port: 2049 };

const LISTEN_PATTERN = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/;
/** The same as a JSON Schema pattern (the port's range is checked in code). */
export const LISTEN_PATTERN_SOURCE = "^(\\[[^\\]]+\\]|[^:]*):[0-9]{1,5}$";

/** The address, or null when `text` is not one. */
export function tryParseListen(text: string): ListenSpec | null {
  const m = LISTEN_PATTERN.exec(text);
  if (!m || Number(m[3]) > 65535) return null;
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
}

/** Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses). */
export function parseListen(text: string): ListenSpec {
  const spec = tryParseListen(text);
  if (spec === null)
    throw new ConfigError(`bad listen address '${text}': expected HOST:PORT, e.g. 127.0.0.1:2049`);
  return spec;
}

/** The text of an address, as parseListen reads it back. */
export function listenText(spec: ListenSpec): string {
  return spec.host.includes(":") ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}
