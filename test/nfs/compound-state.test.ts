import { describe, expect, it } from "vitest";
import type { FileHandle } from "../../src/fs/backend.js";
import { CompoundRequestState } from "../../src/nfs/compound-state.js";
import { DEFAULT_EXPORT_RULES, type ExportRules } from "../../src/exports/rules.js";
import { Harness, sysCred } from "./harness.js";

const SQUASHING: ExportRules = { ...DEFAULT_EXPORT_RULES, squash: "root" };

/** A state whose exports squash root for `squashed` handles only; counts rulesOf calls. */
function stateFor(squashed: (fh: FileHandle) => boolean) {
  const h = new Harness();
  let asked = 0;
  const server = {
    ...h.ctx,
    exports: {
      ...h.ctx.exports,
      rulesOf: (fh: FileHandle) => {
        asked++;
        return squashed(fh) ? SQUASHING : DEFAULT_EXPORT_RULES;
      },
    },
  };
  const state = new CompoundRequestState(server, sysCred(0, 0), h.conn(), 1, 3);
  return { state, asked: () => asked };
}

describe("CompoundRequestState", () => {
  it("starts with nothing current and the request's own credential", () => {
    const { state, asked } = stateFor(() => true);
    expect(state.currentFh).toBeNull();
    expect(state.session).toBeNull();
    expect(state.opIndex).toBe(0);
    expect(state.opCount).toBe(3);
    expect(state.cred.uid).toBe(0);
    expect(asked()).toBe(0);
  });

  it("squashes by the current filehandle's export, asking again only when it changes", () => {
    const a = new Uint8Array([1]);
    const b = new Uint8Array([2]);
    const { state, asked } = stateFor((fh) => fh[0] === 1);
    state.currentFh = a;
    expect(state.cred.uid).toBe(DEFAULT_EXPORT_RULES.anonUid);
    expect(state.cred.uid).toBe(DEFAULT_EXPORT_RULES.anonUid);
    expect(asked()).toBe(1);
    state.currentFh = b;
    expect(state.cred.uid).toBe(0);
    expect(asked()).toBe(2);
    state.currentFh = null;
    expect(state.cred.uid).toBe(0);
    expect(asked()).toBe(2);
  });

  // Not an object literal with its own getter: V8 promotes such literals, and
  // all they reach, out of the young generation (see compound-state.ts).
  it("keeps the credential accessor on its prototype, not on each request's object", () => {
    const { state } = stateFor(() => false);
    expect(Object.getOwnPropertyDescriptor(state, "cred")).toBeUndefined();
    expect(Object.getOwnPropertyNames(state).some((n) => n === "cred")).toBe(false);
  });
});
