// File handles of StoreFileSystem: a format byte, the store's id (8 random
// bytes chosen when the store was created) and the object's persistent id —
// never a path, so renames leave handles valid, and ids are never reused, so
// a handle of a deleted object can never name a newer one (no generation
// number is needed). 17 bytes, well under NFS4_FHSIZE (128).

import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError, type FileHandle } from "../fs/backend.js";
import type { ObjectId } from "./metadata.js";

const FORMAT = 1;
const STORE_ID_AT = 1;
const OBJECT_ID_AT = 9;
const HANDLE_BYTES = 17;

/** The object id's 8 bytes pass through here: one DataView for all handles, not one per handle. */
const idBytes = new Uint8Array(8);
const idView = new DataView(idBytes.buffer);

export function makeStoreHandle(storeId: Uint8Array, id: ObjectId): FileHandle {
  const h = new Uint8Array(HANDLE_BYTES);
  h[0] = FORMAT;
  h.set(storeId, STORE_ID_AT);
  idView.setBigUint64(0, id);
  h.set(idBytes, OBJECT_ID_AT);
  return h;
}

/**
 * The object id a handle names: BADHANDLE for bytes not shaped like ours,
 * STALE for a handle of another store (its objects are not here).
 */
export function parseStoreHandle(storeId: Uint8Array, handle: FileHandle): ObjectId {
  if (handle.length !== HANDLE_BYTES || handle[0] !== FORMAT)
    throw new FsError(nfsstat4.NFS4ERR_BADHANDLE);
  for (let i = 0; i < storeId.length; i++)
    if (handle[STORE_ID_AT + i] !== storeId[i])
      throw new FsError(nfsstat4.NFS4ERR_STALE, "handle of another store");
  idBytes.set(handle.subarray(OBJECT_ID_AT, HANDLE_BYTES));
  return idView.getBigUint64(0);
}
