// Shared assertion for the XDR tests: run `fn`, require an XdrError, return it.
import { expect } from "vitest";
import { XdrError, type XdrErrorCode } from "../../src/xdr/index.js";

export function catchXdr(fn: () => unknown): XdrError {
  try {
    fn();
  } catch (e) {
    if (e instanceof XdrError) return e;
    throw new Error(`expected an XdrError, got ${String(e)}`);
  }
  throw new Error("expected an XdrError, but nothing was thrown");
}

export function expectXdrError(
  fn: () => unknown,
  code: XdrErrorCode,
  offset: number,
  value?: number,
): XdrError {
  const e = catchXdr(fn);
  expect({ code: e.code, offset: e.offset }).toEqual({ code, offset });
  if (value !== undefined) expect(e.value).toBe(value);
  return e;
}
