// Reads a configuration file's text as YAML 1.2 (of which JSON is a subset,
// so the JSON files of earlier versions read the same) and keeps the parsed
// document, so a problem's key path can be turned into the line and column
// it comes from.

import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from "yaml";
import type { ConfigProblem } from "./errors.js";
import type { KeyPath } from "./schema.js";

/** The largest configuration file read: a configuration is a few KiB; anything near this is a mistake. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Aliases expanded at most: YAML aliases can make a small file a huge value ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

export interface ConfigSource {
  readonly fileName: string;
  /** The parsed value: null for an empty file. */
  readonly value: unknown;
  /** "file:line:col" of the key (atKey) or value at `path`, or of its nearest ancestor in the file; null when not from the file. */
  locate(path: KeyPath, atKey?: boolean): string | null;
}

/** Parses `text`; syntax errors come back as problems with their line and column. */
export function parseConfigText(
  text: string,
  fileName: string,
): { source: ConfigSource } | { problems: ConfigProblem[] } {
  const lines = new LineCounter();
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${fileName}:${line}:${col}`;
  };
  if (Buffer.byteLength(text) > MAX_CONFIG_FILE_BYTES)
    return {
      problems: [
        { where: fileName, path: [], message: `larger than ${MAX_CONFIG_FILE_BYTES} bytes` },
      ],
    };
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      problems: doc.errors.map((e) => ({
        where: at(e.pos[0]),
        path: [],
        message: `YAML syntax: ${e.message}`,
      })),
    };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return { problems: [{ where: fileName, path: [], message: (e as Error).message }] };
  }
  return {
    source: {
      fileName,
      value,
      locate(path, atKey = false) {
        const offset = offsetOf(doc, path, atKey);
        return offset === null ? null : at(offset);
      },
    },
  };
}

/** The start of the node at `path` (its key with atKey), or of the nearest ancestor present; null when none is. */
function offsetOf(doc: Document, path: KeyPath, atKey: boolean): number | null {
  let node: unknown = doc.contents;
  // Not the document itself: a key the file does not mention is located at the file alone.
  let best: number | null = null;
  for (const [i, step] of path.entries()) {
    const last = i === path.length - 1;
    let next: unknown = undefined;
    let keyNode: unknown = undefined;
    if (isMap(node) && typeof step === "string") {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === step);
      next = pair?.value;
      keyNode = pair?.key;
    } else if (isSeq(node) && typeof step === "number") {
      next = node.items[step];
    }
    if (last && atKey && keyNode !== undefined) return rangeStart(keyNode) ?? best;
    const start = rangeStart(next) ?? rangeStart(keyNode);
    if (start === null) return best;
    best = start;
    node = next;
  }
  return best;
}

function rangeStart(node: unknown): number | null {
  return isNode(node) && node.range ? node.range[0] : null;
}
