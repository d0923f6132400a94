// The directory watch's decoder, callback router and state machine, with a
// fake DirectoryServer and CB_COMPOUNDs built by hand (notify-builders.ts):
// each notification type becomes its event, a recall re-arms and reports the
// difference, notifications racing the first READDIR are not reported twice,
// a slow consumer ends the watch with "overflow", and a server that grants
// nothing fails the start with DirectoryNotificationsUnavailableError.

import { describe, expect, it } from "vitest";
import type { CB_COMPOUND4args, CB_COMPOUND4res, stateid4 } from "../../generated/nfs4/index.js";
import {
  FATTR4_CHANGE,
  FATTR4_MODE,
  FATTR4_SIZE,
  FATTR4_TIME_MODIFY,
  nfs_cb_opnum4,
  nfsstat4,
  notify_type4,
} from "../../generated/nfs4/index.js";
import { bitmapOf, decodeAttributes } from "../../src/client/attrs.js";
import type { CallbackCallInfo } from "../../src/client/callback.js";
import { CallbackRouter } from "../../src/client/callback-router.js";
import { decodeChanges } from "../../src/client/notify.js";
import type { WatchOptions } from "../../src/client/watch.js";
import { DirectoryWatch } from "../../src/client/watch.js";
import type { WatchEvent } from "../../src/client/watch-events.js";
import { DirectoryNotificationsUnavailableError } from "../../src/client/watch-events.js";
import type {
  ArmRequest,
  ArmResult,
  DirectoryEntry,
  DirectoryServer,
  ResolvedDirectory,
} from "../../src/client/watch-server.js";
import { AUTH_NONE_CREDENTIAL } from "../../src/rpc/auth.js";
import { XdrError } from "../../src/xdr/index.js";
import {
  add,
  attrs,
  cbNotify,
  cbRecall,
  childAttrs,
  dirAttrs,
  notify,
  remove,
  rename,
  verifier,
} from "./notify-builders.js";

const FH = new Uint8Array([0xd1, 0x2e, 0xc7]);
const INFO: CallbackCallInfo = { prog: 0x40000000, vers: 1, proc: 1, cred: AUTH_NONE_CREDENTIAL };

/** A server holding one directory, granting what `grant` says. */
class FakeServer implements DirectoryServer {
  entries: DirectoryEntry[] = [];
  /** notify_type4 values granted (intersected with those asked); null: NFS4ERR_NOTSUPP. */
  grant: number[] | null = [0, 1, 2, 3, 4, 5];
  /** The next arms answered GDD4_UNAVAIL (a recall cooldown). */
  unavailable = 0;
  /** Runs between the grant and the listing (the window the dedupe rule is for). */
  duringArm: ((stateid: stateid4) => void) | null = null;
  readonly log: string[] = [];
  readonly asked: ArmRequest[] = [];
  private next = 0;

  resolve(): Promise<ResolvedDirectory> {
    return Promise.resolve({ fh: FH, leaseSeconds: 90 });
  }

  arm(_fh: Uint8Array, request: ArmRequest): Promise<ArmResult> {
    this.asked.push(request);
    if (this.grant === null) return Promise.resolve({ granted: false, why: "NFS4ERR_NOTSUPP" });
    if (this.unavailable > 0) {
      this.unavailable--;
      this.log.push("unavailable");
      return Promise.resolve({ granted: false, why: "GDD4_UNAVAIL" });
    }
    const stateid = { seqid: 1, other: new Uint8Array(12).fill(++this.next) };
    this.log.push(`arm ${this.next}`);
    this.duringArm?.(stateid);
    const granted = this.grant;
    return Promise.resolve({
      granted: true,
      armed: {
        stateid,
        cookieverf: new Uint8Array(8),
        types: request.types.filter((t) => granted.includes(t)),
        childAttributes: request.childAttributes,
        dirAttributes: request.dirAttributes,
        entries: this.entries.map((e) => ({ ...e })),
      },
    });
  }

  giveBack(_fh: Uint8Array, stateid: stateid4): Promise<void> {
    this.log.push(`return ${stateid.other[0]}`);
    return Promise.resolve();
  }

  renew(): Promise<{ recallableStateRevoked: boolean }> {
    return Promise.resolve({ recallableStateRevoked: false });
  }

  isRevoked(): Promise<boolean> {
    return Promise.resolve(false);
  }

  stateid(n = this.next): stateid4 {
    return { seqid: 1, other: new Uint8Array(12).fill(n) };
  }
}

const entry = (name: string, cookie: bigint, fileid: bigint): DirectoryEntry => ({
  name,
  cookie,
  fileid,
});

async function send(router: CallbackRouter, args: CB_COMPOUND4args): Promise<CB_COMPOUND4res> {
  const res = await router.handler(args, INFO);
  if (res === null) throw new Error("the router dropped a callback");
  return res;
}

/** The status the router gave the operation after CB_SEQUENCE. */
function secondStatus(res: CB_COMPOUND4res): number {
  const r = res.resarray[1];
  if (r?.resop === nfs_cb_opnum4.OP_CB_NOTIFY) return r.opcbnotify.cnr_status;
  if (r?.resop === nfs_cb_opnum4.OP_CB_RECALL) return r.opcbrecall.status;
  throw new Error("no second result");
}

/** The next `n` events (with a safety-net deadline: never a verdict on timing). */
async function take(w: DirectoryWatch, n: number): Promise<WatchEvent[]> {
  const it = w[Symbol.asyncIterator]();
  const out: WatchEvent[] = [];
  const deadline = setTimeout(() => void w.close(), 10_000);
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done === true) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(deadline);
  }
  return out;
}

async function started(
  server: FakeServer,
  options: WatchOptions = {},
): Promise<{ w: DirectoryWatch; router: CallbackRouter }> {
  const router = new CallbackRouter();
  const w = await DirectoryWatch.start(server, router, "/export/d", {
    types: ["add", "remove", "rename", "child-attributes", "directory-attributes", "verifier"],
    rearmDelayMs: 0,
    ...options,
  });
  return { w, router };
}

describe("decodeChanges", () => {
  it("decodes every notification type, several in one notify4 in bit order", () => {
    const changes = decodeChanges([
      notify(remove("a", 3n), add("b", 4n, attrs({ fileid: 9n, size: 5n }))),
      notify(rename("b", 4n, "c", 6n)),
      notify(childAttrs("c", attrs({ mode: 0o640 }))),
      notify(dirAttrs(attrs({ size: 4096n }))),
      notify(verifier(1, 2)),
    ]);
    expect(changes).toEqual([
      { kind: "remove", name: "a", cookie: 3n },
      { kind: "add", name: "b", cookie: 4n, attrs: { size: 5n, fileid: 9n }, replaced: null },
      { kind: "rename", from: "b", fromCookie: 4n, to: "c", toCookie: 6n, replaced: null },
      { kind: "child-attributes", name: "c", attrs: { mode: 0o640 } },
      { kind: "directory-attributes", attrs: { size: 4096n } },
      { kind: "verifier", old: new Uint8Array(8).fill(1), new: new Uint8Array(8).fill(2) },
    ]);
  });

  it("reports an add that replaced an entry, and an add without a cookie", () => {
    const [a, b] = decodeChanges([
      notify(add("x", 7n, undefined, ["x", 2n])),
      notify(add("y", null)),
    ]);
    expect(a).toMatchObject({ kind: "add", name: "x", replaced: { name: "x", cookie: 2n } });
    expect(b).toMatchObject({ kind: "add", name: "y", cookie: null, attrs: null });
  });

  it("refuses an unknown notification type, truncated values and trailing bytes", () => {
    const good = notify(remove("a", 1n));
    expect(() =>
      decodeChanges([{ notify_mask: [1 << 9], notify_vals: new Uint8Array(0) }]),
    ).toThrow(XdrError);
    expect(() =>
      decodeChanges([
        { notify_mask: good.notify_mask, notify_vals: good.notify_vals.subarray(0, 6) },
      ]),
    ).toThrow(XdrError);
    const longer = new Uint8Array(good.notify_vals.length + 4);
    longer.set(good.notify_vals);
    expect(() => decodeChanges([{ notify_mask: good.notify_mask, notify_vals: longer }])).toThrow(
      XdrError,
    );
  });

  it("decodes the attributes it knows and names the rest, which it cannot skip", () => {
    const a = attrs({ size: 1n, fileid: 2n });
    // Attribute 1000 does not exist: decoding stops there.
    const mask = [...a.attrmask];
    while (mask.length < 32) mask.push(0);
    mask[31] = 1 << (1000 - 31 * 32);
    expect(decodeAttributes({ attrmask: mask, attr_vals: a.attr_vals })).toEqual({
      size: 1n,
      fileid: 2n,
      undecoded: [1000],
    });
  });
});

describe("CallbackRouter", () => {
  it("answers CB_NOTIFY and CB_RECALL of an unknown stateid NFS4ERR_BAD_STATEID", async () => {
    const router = new CallbackRouter();
    const s = { seqid: 1, other: new Uint8Array(12).fill(9) };
    const n = await send(router, cbNotify(s, FH, notify(add("a", 1n))));
    expect(n.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
    expect(n.resarray[0]).toMatchObject({ opcbsequence: { csr_status: nfsstat4.NFS4_OK } });
    expect(secondStatus(await send(router, cbRecall(s, FH)))).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
  });

  it("gives recalls of stateids no listener holds to onOtherRecall", async () => {
    const recalled: number[] = [];
    const router = new CallbackRouter({ onOtherRecall: (r) => recalled.push(r.stateid.other[0]!) });
    const s = { seqid: 1, other: new Uint8Array(12).fill(4) };
    expect(secondStatus(await send(router, cbRecall(s, FH)))).toBe(nfsstat4.NFS4_OK);
    await new Promise((r) => setImmediate(r));
    expect(recalled).toEqual([4]);
  });

  it("copies what it hands on: the receive buffer may be reused", async () => {
    const router = new CallbackRouter();
    const got: Uint8Array[] = [];
    const s = { seqid: 1, other: new Uint8Array(12).fill(3) };
    router.listen(s, { onNotify: (n) => got.push(n.stateid.other), onRecall: () => {} });
    const args = cbNotify(s, FH, notify(add("a", 1n)));
    await send(router, args);
    s.other.fill(0);
    expect(got[0]).toEqual(new Uint8Array(12).fill(3));
  });
});

describe("DirectoryWatch", () => {
  it("reports adds, removes, renames, attribute and verifier changes in order", async () => {
    const server = new FakeServer();
    server.entries = [entry("old", 1n, 100n)];
    const { w, router } = await started(server, { attributes: ["size", "mode"] });
    expect(w.missingTypes).toEqual([]);
    expect(server.asked[0]).toMatchObject({ types: [3, 2, 4, 0, 1, 5] });
    const res = await send(
      router,
      cbNotify(
        server.stateid(),
        FH,
        notify(add("new", 2n, attrs({ fileid: 101n, size: 0n }))),
        notify(childAttrs("new", attrs({ size: 12n }))),
        notify(rename("new", 2n, "newer", 3n)),
        notify(remove("old", 1n)),
        notify(dirAttrs(attrs({ mode: 0o755 }))),
        notify(verifier(0, 1)),
      ),
    );
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    expect(await take(w, 6)).toEqual([
      {
        type: "added",
        name: "new",
        cookie: 2n,
        attrs: { fileid: 101n, size: 0n },
        replaced: false,
        via: "notification",
      },
      { type: "attributes", target: "child", name: "new", attrs: { size: 12n } },
      { type: "renamed", from: "new", to: "newer", replaced: false },
      { type: "removed", name: "old", via: "notification" },
      { type: "attributes", target: "directory", name: "", attrs: { mode: 0o755 } },
      { type: "verifier" },
    ]);
    expect(w.entries()).toEqual([{ name: "newer", cookie: null, fileid: 101n }]);
    await w.close();
    expect(server.log).toEqual(["arm 1", "return 1"]);
  });

  it("re-arms after a recall and reports what changed in between from the new listing", async () => {
    const server = new FakeServer();
    server.entries = [entry("keep", 1n, 10n), entry("gone", 2n, 11n), entry("swapped", 3n, 12n)];
    const { w, router } = await started(server);
    const first = server.stateid();
    server.entries = [entry("keep", 1n, 10n), entry("swapped", 3n, 99n), entry("fresh", 4n, 13n)];
    expect(secondStatus(await send(router, cbRecall(first, FH)))).toBe(nfsstat4.NFS4_OK);
    expect(await take(w, 5)).toEqual([
      { type: "recalled", cause: "recall" },
      { type: "removed", name: "gone", via: "resync" },
      { type: "removed", name: "swapped", via: "resync" },
      {
        type: "added",
        name: "swapped",
        cookie: 3n,
        attrs: { fileid: 99n },
        replaced: false,
        via: "resync",
      },
      {
        type: "added",
        name: "fresh",
        cookie: 4n,
        attrs: { fileid: 13n },
        replaced: false,
        via: "resync",
      },
    ]);
    expect(server.log).toEqual(["arm 1", "return 1", "arm 2"]);
    // The old stateid is no longer anyone's; the new one is heard.
    expect((await send(router, cbNotify(first, FH, notify(add("x", 9n))))).status).toBe(
      nfsstat4.NFS4ERR_BAD_STATEID,
    );
    await send(router, cbNotify(server.stateid(), FH, notify(add("x", 9n))));
    expect(await take(w, 1)).toMatchObject([{ type: "added", name: "x", via: "notification" }]);
    await w.close();
  });

  it("does not report again what the first listing already showed", async () => {
    const server = new FakeServer();
    server.entries = [entry("raced", 5n, 50n)];
    let router: CallbackRouter | null = null;
    server.duringArm = (stateid) => {
      // The server notifies before the client has read the grant: the add is in the
      // listing, the removed name is not.
      if (router === null) throw new Error("no router");
      void router.handler(
        cbNotify(stateid, FH, notify(add("raced", 5n)), notify(remove("ghost", 6n))),
        INFO,
      );
    };
    router = new CallbackRouter();
    const w = await DirectoryWatch.start(server, router, "/export/d", {
      types: ["add", "remove"],
      rearmDelayMs: 0,
    });
    await send(router, cbNotify(server.stateid(), FH, notify(add("later", 7n))));
    expect(await take(w, 1)).toMatchObject([{ type: "added", name: "later" }]);
    expect(w.entries().map((e) => e.name)).toEqual(["raced", "later"]);
    await w.close();
  });

  it("reports an add of a known name with another cookie as a replacement", async () => {
    const server = new FakeServer();
    server.entries = [entry("f", 5n, 50n)];
    const { w, router } = await started(server);
    await send(router, cbNotify(server.stateid(), FH, notify(add("f", 5n)), notify(add("f", 8n))));
    expect(await take(w, 1)).toMatchObject([
      { type: "added", name: "f", cookie: 8n, replaced: true },
    ]);
    await w.close();
  });

  it("ends with 'overflow' when the consumer falls behind, and gives the delegation back", async () => {
    const server = new FakeServer();
    const { w, router } = await started(server, { maxQueuedEvents: 2 });
    const s = server.stateid();
    await send(
      router,
      cbNotify(s, FH, notify(add("a", 1n)), notify(add("b", 2n)), notify(add("c", 3n))),
    );
    const events = await take(w, 10);
    expect(events.map((e) => e.type)).toEqual(["added", "added", "ended"]);
    expect(events[2]).toMatchObject({ type: "ended", reason: "overflow" });
    expect(w.ended).toBe(true);
    await w.close();
    expect(server.log).toEqual(["arm 1", "return 1"]);
    expect((await send(router, cbNotify(s, FH, notify(add("d", 4n))))).status).toBe(
      nfsstat4.NFS4ERR_BAD_STATEID,
    );
  });

  it("ends with 'overflow' when more callbacks arrive while arming than it may hold", async () => {
    const server = new FakeServer();
    const router = new CallbackRouter();
    server.duringArm = (stateid) => {
      for (const name of ["a", "b", "c"])
        void router.handler(cbNotify(stateid, FH, notify(add(name, 1n))), INFO);
    };
    const w = await DirectoryWatch.start(server, router, "/export/d", { maxQueuedEvents: 2 });
    expect(await take(w, 5)).toMatchObject([{ type: "ended", reason: "overflow" }]);
    await w.close();
    expect(server.log).toEqual(["arm 1", "return 1"]);
  });

  it("re-reads the directory after a CB_NOTIFY it cannot decode, which it answers NFS4ERR_BADXDR", async () => {
    const server = new FakeServer();
    const { w, router } = await started(server);
    server.entries = [entry("z", 1n, 5n)];
    const bad = await send(
      router,
      cbNotify(server.stateid(), FH, { notify_mask: [1 << 3], notify_vals: new Uint8Array(3) }),
    );
    expect(bad.status).toBe(nfsstat4.NFS4ERR_BADXDR);
    expect(await take(w, 2)).toMatchObject([
      { type: "recalled", cause: "undecodable" },
      { type: "added", name: "z", via: "resync" },
    ]);
    await w.close();
  });

  it("handles a recall that arrives before the grant is read", async () => {
    const server = new FakeServer();
    server.entries = [entry("a", 1n, 1n)];
    const router = new CallbackRouter();
    server.duringArm = (stateid) => {
      server.duringArm = null;
      server.entries = [];
      void router.handler(cbRecall(stateid, FH), INFO);
    };
    const w = await DirectoryWatch.start(server, router, "/export/d", { rearmDelayMs: 0 });
    expect(await take(w, 1)).toEqual([{ type: "recalled", cause: "recall" }]);
    expect(server.log).toEqual(["arm 1", "return 1", "arm 2"]);
    await w.close();
  });

  it("waits rearmDelayMs after giving back before asking again; close() cuts the wait short", async () => {
    const server = new FakeServer();
    const { w, router } = await started(server, { rearmDelayMs: 60_000 });
    await send(router, cbRecall(server.stateid(), FH));
    expect(await take(w, 1)).toEqual([{ type: "recalled", cause: "recall" }]);
    await new Promise((r) => setImmediate(r));
    await w.close();
    expect(server.log).toEqual(["arm 1", "return 1"]);
  });

  it("retries re-arming while the server declines after its recall", async () => {
    const server = new FakeServer();
    server.entries = [entry("a", 1n, 1n)];
    const { w, router } = await started(server, {
      rearmRetry: { initialMs: 1, maxMs: 2, totalMs: 1_000 },
    });
    server.unavailable = 3;
    server.entries = [];
    await send(router, cbRecall(server.stateid(), FH));
    expect(await take(w, 2)).toEqual([
      { type: "recalled", cause: "recall" },
      { type: "removed", name: "a", via: "resync" },
    ]);
    expect(server.log).toEqual([
      "arm 1",
      "return 1",
      "unavailable",
      "unavailable",
      "unavailable",
      "arm 2",
    ]);
    await w.close();
  });

  it("gives up re-arming after rearmRetry.totalMs, and close() does not wait for a retry", async () => {
    const server = new FakeServer();
    const { w, router } = await started(server, {
      rearmRetry: { initialMs: 1, maxMs: 1, totalMs: 3 },
    });
    server.unavailable = 100;
    await send(router, cbRecall(server.stateid(), FH));
    expect(await take(w, 2)).toMatchObject([
      { type: "recalled" },
      { type: "ended", reason: "rearm-failed" },
    ]);
    const second = await started(server, {
      rearmRetry: { initialMs: 60_000, maxMs: 60_000, totalMs: 600_000 },
    }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(DirectoryNotificationsUnavailableError);
    server.unavailable = 0;
    const third = await started(server, {
      rearmRetry: { initialMs: 60_000, maxMs: 60_000, totalMs: 600_000 },
    });
    server.unavailable = 1;
    await send(third.router, cbRecall(server.stateid(), FH));
    expect(await take(third.w, 1)).toEqual([{ type: "recalled", cause: "recall" }]);
    await third.w.close(); // would hang for a minute if the pause were not cancelled
  });

  it("ends with 'rearm-failed' when the server will not grant again", async () => {
    const server = new FakeServer();
    const { w, router } = await started(server);
    server.grant = null;
    await send(router, cbRecall(server.stateid(), FH));
    expect(await take(w, 3)).toEqual([
      { type: "recalled", cause: "recall" },
      {
        type: "ended",
        reason: "rearm-failed",
        detail: "the server would not grant the delegation again (NFS4ERR_NOTSUPP)",
      },
    ]);
  });

  it("fails to start when the server grants no directory delegation", async () => {
    const server = new FakeServer();
    server.grant = null;
    const err = await started(server).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryNotificationsUnavailableError);
    expect(err).toMatchObject({ why: "NFS4ERR_NOTSUPP" });
    expect(String(err)).toMatch(/does not support directory delegations with notifications/);
  });

  it("fails to start when none of the asked types is granted, and returns the delegation", async () => {
    const server = new FakeServer();
    server.grant = [];
    const err = await started(server, { types: ["add"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryNotificationsUnavailableError);
    expect(String(err)).toMatch(/did not grant the notification types asked for/);
    expect(server.log).toEqual(["arm 1", "return 1"]);
  });

  it("asks for the default attributes when it watches attribute changes without naming any", async () => {
    const server = new FakeServer();
    const { w } = await started(server, { types: ["add", "child-attributes"] });
    const expected = bitmapOf([FATTR4_CHANGE, FATTR4_SIZE, FATTR4_MODE, FATTR4_TIME_MODIFY]);
    expect(server.asked[0]).toMatchObject({ childAttributes: expected, dirAttributes: expected });
    await w.close();
    const { w: plain } = await started(server, { types: ["add"] });
    expect(server.asked[1]).toMatchObject({ childAttributes: [], dirAttributes: [] });
    await plain.close();
  });

  it("says which asked types were not granted", async () => {
    const server = new FakeServer();
    server.grant = [notify_type4.NOTIFY4_ADD_ENTRY, notify_type4.NOTIFY4_REMOVE_ENTRY];
    const { w } = await started(server, { types: ["add", "remove", "rename"] });
    expect(w.granted).toEqual(["add", "remove"]);
    expect(w.missingTypes).toEqual(["rename"]);
    await w.close();
  });

  it("stops on break, and on an AbortSignal with an 'aborted' event", async () => {
    const server = new FakeServer();
    const { w, router } = await started(server);
    await send(router, cbNotify(server.stateid(), FH, notify(add("a", 1n)), notify(add("b", 2n))));
    const seen: string[] = [];
    for await (const ev of w) {
      if (ev.type === "added") seen.push(ev.name);
      break;
    }
    expect(seen).toEqual(["a"]);
    expect(server.log).toEqual(["arm 1", "return 1"]);

    const ac = new AbortController();
    const second = await DirectoryWatch.start(server, router, "/export/d", { signal: ac.signal });
    ac.abort();
    expect(await take(second, 5)).toEqual([
      { type: "ended", reason: "aborted", detail: "the AbortSignal fired" },
    ]);
    await second.close();
    expect(server.log).toEqual(["arm 1", "return 1", "arm 2", "return 2"]);
  });

  it("re-arms when a renewal finds its delegation revoked", async () => {
    const server = new FakeServer();
    let revoked = false;
    server.renew = () => Promise.resolve({ recallableStateRevoked: revoked });
    server.isRevoked = () => Promise.resolve(revoked);
    const { w } = await started(server, { renewMs: 100 });
    revoked = true;
    const [ev] = await take(w, 1);
    revoked = false;
    expect(ev).toEqual({ type: "recalled", cause: "revoked" });
    // Revoked and freed: nothing to give back; armed again.
    while (server.log.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(server.log.slice(0, 2)).toEqual(["arm 1", "arm 2"]);
    await w.close();
  });
});
