// The client library's directory watch and `dfsctl watch` against a real
// NfsServer over TCP (RFC 8881 §10.9, §18.39, §20.4): a second client changes
// the watched directory and the watch reports each change once, in order; a
// change of a type not granted recalls the delegation, and the re-armed watch
// reports it from the re-read listing; a server without directory delegations,
// or with caching-only ones, fails the watch with
// DirectoryNotificationsUnavailableError and dfsctl with exit status 3. "Once" is shown without timing: after the changes a marker
// file is created, and once its event arrives the events before it must be
// exactly those expected.

import { describe, expect, it } from "vitest";
import type { nfs_argop4 } from "../../generated/nfs4/index.js";
import {
  FATTR4_MODE,
  OPEN4_SHARE_ACCESS_WRITE,
  encodefattr4_mode,
  nfs_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import type { ClientSession, WatchEvent, WatchOptions } from "../../src/client/index.js";
import {
  CallbackRouter,
  DirectoryNotificationsUnavailableError,
  NONE_GRANTED,
  closeFile,
  failureOf,
  openFile,
  ops,
  resultOf,
  retryOnDelay,
  watch,
} from "../../src/client/index.js";
import type { DirectoryWatch } from "../../src/client/watch.js";
import { EXIT_OK, EXIT_UNSUPPORTED, watchCommand } from "../../src/cli/watch-command.js";
import { bitmapOf } from "../../src/nfs/attrs/index.js";
import type { NfsServerOptions } from "../../src/nfs/server.js";
import { XdrWriter } from "../../src/xdr/index.js";
import type { Running } from "./support.js";
import { establish, mkdirInExport, until, useServer } from "./support.js";

const utf8 = new TextEncoder();

/** The server's settings for directory delegations with notifications. */
const NOTIFYING: NfsServerOptions = { settings: { directoryDelegations: "notifications" } };

let dirs = 0;

/** A fresh directory under /export, made by `session`; its path and filehandle. */
async function makeDir(session: ClientSession): Promise<{ path: string; fh: Uint8Array }> {
  const name = `w${process.pid}-${++dirs}`;
  return { path: `/export/${name}`, fh: await mkdirInExport(session, name) };
}

/** Runs `argops` after PUTFH `fh`, retrying DELAY (a recall under way); fails unless NFS4_OK. */
async function run(session: ClientSession, fh: Uint8Array, argops: nfs_argop4[]): Promise<void> {
  const { reply } = await retryOnDelay(() => session.compound([ops.putfh(fh), ...argops]));
  const err = failureOf(reply.res);
  if (err !== null) throw err;
}

async function create(session: ClientSession, dir: string, name: string): Promise<void> {
  const f = await openFile(session, `${dir}/${name}`, {
    access: OPEN4_SHARE_ACCESS_WRITE,
    create: true,
  });
  await closeFile(session, f);
}

const remove = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_REMOVE,
  opremove: { target: utf8.encode(name) },
});
/** RENAME within directory `fh` (after PUTFH `fh`: the saved and current filehandles are both it). */
const rename = (fh: Uint8Array, from: string, to: string): nfs_argop4[] => [
  { argop: nfs_opnum4.OP_SAVEFH },
  ops.putfh(fh),
  {
    argop: nfs_opnum4.OP_RENAME,
    oprename: { oldname: utf8.encode(from), newname: utf8.encode(to) },
  },
];
function setMode(mode: number): nfs_argop4 {
  const w = new XdrWriter();
  encodefattr4_mode(w, mode);
  return {
    argop: nfs_opnum4.OP_SETATTR,
    opsetattr: {
      stateid: { seqid: 0, other: new Uint8Array(12) },
      obj_attributes: { attrmask: bitmapOf([FATTR4_MODE]), attr_vals: w.toBytes() },
    },
  };
}

/** A client ready to open files (RECLAIM_COMPLETE sent: RFC 8881 §18.51). */
async function peer(
  running: Running,
  options: Parameters<typeof establish>[1] = {},
): Promise<ClientSession> {
  const { session } = await establish(running.port, options);
  expect((await session.compound([ops.reclaimComplete()])).status).toBe(nfsstat4.NFS4_OK);
  return session;
}

/** A watcher: a client whose callbacks go through a router, and its events as they come. */
async function watcher(
  running: Running,
  path: string,
  options: WatchOptions,
): Promise<{ w: DirectoryWatch; events: WatchEvent[]; session: ClientSession }> {
  const router = new CallbackRouter();
  const session = await peer(running, { onCallback: router.handler });
  const w = await watch(session, router, path, options);
  const events: WatchEvent[] = [];
  void (async () => {
    for await (const ev of w) events.push(ev);
  })();
  return { w, events, session };
}

/** Creates `marker` and waits for its add: then every event before it has arrived. */
async function settle(
  session: ClientSession,
  dir: string,
  events: WatchEvent[],
  marker = "zz-marker",
): Promise<WatchEvent[]> {
  await create(session, dir, marker);
  await until(
    () => events.some((e) => e.type === "added" && e.name === marker),
    `the add of ${marker}`,
  );
  const at = events.findIndex((e) => e.type === "added" && e.name === marker);
  return events.slice(0, at);
}

/** Events without what varies between runs (cookies, attribute values other than those asked). */
function shape(ev: WatchEvent): string {
  switch (ev.type) {
    case "added":
      return `added ${ev.name} (${ev.via})${ev.replaced ? " (replaced)" : ""}`;
    case "removed":
      return `removed ${ev.name} (${ev.via})`;
    case "renamed":
      return `renamed ${ev.from} -> ${ev.to}${ev.replaced ? " (replaced)" : ""}`;
    case "attributes":
      return `attributes ${ev.target} ${ev.name} mode=${ev.attrs.mode?.toString(8)}`;
    default:
      return ev.type;
  }
}

describe("watch over TCP, against a server that notifies", () => {
  const running = useServer(NOTIFYING);

  it("reports another client's creates, renames, links and removes once each, in order", async () => {
    const other = await peer(running);
    const { path, fh } = await makeDir(other);
    await create(other, path, "before");
    const { w, events } = await watcher(running, path, { types: ["add", "remove", "rename"] });
    expect(w.missingTypes).toEqual([]);
    expect(w.entries().map((e) => e.name)).toEqual(["before"]);

    await create(other, path, "a");
    await create(other, path, "b");
    await run(other, fh, rename(fh, "a", "c"));
    // LINK: the saved filehandle is the file, the current one the directory.
    const c = await retryOnDelay(() =>
      other.compound([ops.putfh(fh), ops.lookup("c"), ops.getfh()]),
    );
    const cfh = resultOf(c.reply.resarray.at(-1), nfs_opnum4.OP_GETFH);
    if (cfh?.status !== nfsstat4.NFS4_OK) throw new Error("no filehandle of c");
    await run(other, cfh.resok4.object, [
      { argop: nfs_opnum4.OP_SAVEFH },
      ops.putfh(fh),
      { argop: nfs_opnum4.OP_LINK, oplink: { newname: utf8.encode("d") } },
    ]);
    await run(other, fh, [remove("b")]);
    await run(other, fh, rename(fh, "before", "c"));

    expect((await settle(other, path, events)).map(shape)).toEqual([
      "added a (notification)",
      "added b (notification)",
      "renamed a -> c",
      "added d (notification)",
      "removed b (notification)",
      "renamed before -> c (replaced)",
    ]);
    expect(
      w
        .entries()
        .map((e) => e.name)
        .sort(),
    ).toEqual(["c", "d", "zz-marker"]);
    await w.close();
  });

  it("reports renames into and out of the directory as adds and removes", async () => {
    const other = await peer(running);
    const watched = await makeDir(other);
    const elsewhere = await makeDir(other);
    await create(other, elsewhere.path, "incoming");
    await create(other, elsewhere.path, "clobber");
    await create(other, watched.path, "outgoing");
    await create(other, watched.path, "clobber");
    const { w, events } = await watcher(running, watched.path, {
      types: ["add", "remove", "rename"],
    });
    // After PUTFH of the source directory: SAVEFH it, PUTFH the target, RENAME.
    const across = (to: Uint8Array, a: string, b: string): nfs_argop4[] => [
      { argop: nfs_opnum4.OP_SAVEFH },
      ops.putfh(to),
      {
        argop: nfs_opnum4.OP_RENAME,
        oprename: { oldname: utf8.encode(a), newname: utf8.encode(b) },
      },
    ];
    await run(other, elsewhere.fh, across(watched.fh, "incoming", "arrived"));
    await run(other, watched.fh, across(elsewhere.fh, "outgoing", "left"));
    await run(other, elsewhere.fh, across(watched.fh, "clobber", "clobber"));
    expect((await settle(other, watched.path, events)).map(shape)).toEqual([
      "added arrived (notification)",
      "removed outgoing (notification)",
      "added clobber (notification) (replaced)",
    ]);
    await w.close();
  });

  it("reports attribute changes of children with the attributes asked for", async () => {
    const other = await peer(running);
    const { path, fh } = await makeDir(other);
    await create(other, path, "f");
    const { w, events } = await watcher(running, path, {
      types: ["add", "child-attributes"],
      attributes: ["mode"],
    });
    await run(other, fh, [ops.lookup("f"), setMode(0o600)]);
    await run(other, fh, [ops.lookup("f"), setMode(0o640)]);
    expect((await settle(other, path, events)).map(shape)).toEqual([
      "attributes child f mode=600",
      "attributes child f mode=640",
    ]);
    await w.close();
  });

  it("reports the directory's own attribute changes", async () => {
    const other = await peer(running);
    const { path, fh } = await makeDir(other);
    const { w, events } = await watcher(running, path, {
      types: ["add", "directory-attributes"],
      directoryAttributes: ["mode"],
    });
    expect(w.granted).toEqual(["add", "directory-attributes"]);
    await run(other, fh, [setMode(0o700)]);
    const seen = (await settle(other, path, events)).map(shape);
    // Adding the marker may change the directory's attributes too; mode is what was asked.
    expect(seen[0]).toBe("attributes directory  mode=700");
    await w.close();
  });

  it("tells the holder of its own adds and removes, without recalling its delegation", async () => {
    const other = await peer(running);
    const { path, fh } = await makeDir(other);
    const { w, events, session } = await watcher(running, path, { types: ["add", "remove"] });
    const recalledBefore = running.server.delegations.stats.recalled;
    await create(session, path, "mine");
    await run(session, fh, [remove("mine")]);
    expect((await settle(session, path, events)).map(shape)).toEqual([
      "added mine (notification)",
      "removed mine (notification)",
    ]);
    expect(running.server.delegations.stats.recalled).toBe(recalledBefore);
    await w.close();
  });

  it("re-arms after a recall for a change it did not ask about, and reports it from the re-read", async () => {
    const other = await peer(running);
    const { path, fh } = await makeDir(other);
    await create(other, path, "victim");
    const { w, events } = await watcher(running, path, { types: ["add"] });
    expect(w.granted).toEqual(["add"]);
    const { returned: returnedBefore, recalled: recalledBefore } = running.server.delegations.stats;
    await run(other, fh, [remove("victim")]);
    await until(() => events.some((e) => e.type === "removed"), "the removal from the re-read");
    expect(events.map(shape)).toEqual(["recalled", "removed victim (resync)"]);
    // One recall: the watch waited (rearmDelayMs) before asking again, so the
    // REMOVE's retry after NFS4ERR_DELAY went through rather than meet a new delegation.
    expect(running.server.delegations.stats.recalled).toBe(recalledBefore + 1);
    expect(running.server.delegations.stats.returned).toBe(returnedBefore + 1);
    // Armed again: adds are notified as before.
    expect((await settle(other, path, events)).map(shape)).toEqual([
      "recalled",
      "removed victim (resync)",
    ]);
    await w.close();
  });

  it("dfsctl watch prints the events and exits 0 after an interrupt, returning the delegation", async () => {
    const other = await peer(running);
    const { path } = await makeDir(other);
    const out: string[] = [];
    const err: string[] = [];
    const ac = new AbortController();
    let ready = false;
    const exit = watchCommand(["--json", `127.0.0.1:${running.port}:${path}`], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      signal: ac.signal,
      onReady: () => (ready = true),
    });
    let exited = false;
    void exit.then(() => (exited = true));
    await until(() => ready || exited, "dfsctl watch to be armed");
    expect(err).toEqual([expect.stringMatching(/^dfsctl watch: watching /)]);
    const inForce = running.server.state.delegationCount;
    await create(other, path, "hello");
    await until(() => out.some((l) => l.includes('"hello"')), "the JSON line of the add");
    ac.abort();
    expect(await exit).toBe(EXIT_OK);
    expect(running.server.state.delegationCount).toBe(inForce - 1);
    const added: unknown = JSON.parse(out.find((l) => l.includes('"hello"'))!);
    expect(added).toMatchObject({ type: "added", name: "hello", via: "notification" });
    expect(err.join("\n")).toMatch(/watching 127\.0\.0\.1:\d+:\/export\/w/);
  });
});

describe("watch over TCP, against a server without directory delegations", () => {
  const running = useServer({ settings: { directoryDelegations: "none" } });

  it("fails with DirectoryNotificationsUnavailableError, and dfsctl watch exits 3", async () => {
    const router = new CallbackRouter();
    const { session } = await establish(running.port, { onCallback: router.handler });
    const err = await watch(session, router, "/export").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryNotificationsUnavailableError);
    expect(String(err)).toMatch(/does not support directory delegations with notifications/);

    const lines: string[] = [];
    const status = await watchCommand([`127.0.0.1:${running.port}:/export`], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      signal: new AbortController().signal,
    });
    expect(status).toBe(EXIT_UNSUPPORTED);
    expect(lines.join("\n")).toMatch(/does not support directory delegations with notifications/);
  });
});

describe("watch over TCP, against a server whose directory delegations carry no notifications", () => {
  const running = useServer({ settings: { directoryDelegations: "caching" } });

  it("fails saying no asked type was granted, returns the delegation, and dfsctl exits 3", async () => {
    const router = new CallbackRouter();
    const session = await peer(running, { onCallback: router.handler });
    const inForce = running.server.state.delegationCount;
    const err = await watch(session, router, "/export").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryNotificationsUnavailableError);
    expect(err).toMatchObject({ why: NONE_GRANTED });
    expect(String(err)).toMatch(/did not grant the notification types asked for/);
    expect(running.server.state.delegationCount).toBe(inForce);

    const lines: string[] = [];
    const status = await watchCommand([`127.0.0.1:${running.port}:/export`], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      signal: new AbortController().signal,
    });
    expect(status).toBe(EXIT_UNSUPPORTED);
  });
});
