// Every setting of `dfs serve`'s configuration, declared once: its type, the
// values it allows, and a one-line description. Defaults come from the
// DEFAULT_*_SETTINGS objects beside the code that uses them; the descriptions
// live here (the settings files' doc comments say why a default is what it is).
// validate.ts, environment.ts, json-schema.ts and reference.ts derive
// everything else from CONFIG_DECLARATION.

import {
  DEFAULT_CONTROL_SETTINGS,
  DEFAULT_METRICS_SETTINGS,
  type ControlSettings,
  type MetricsSettings,
} from "../control/settings.js";
import { DEFAULT_EXPORT_RULES, FLAVOR_NAMES } from "../exports/rules.js";
import { DEFAULT_NFS_SETTINGS, NFS_SETTING_CHOICES, type NfsSettings } from "../nfs/settings.js";
import {
  DEFAULT_RPC_SETTINGS,
  MAX_FRAGMENT_LENGTH,
  MAX_IN_FLIGHT_PER_CONNECTION,
  MAX_REQUEST_BUFFERS_KEPT,
  MAX_READ_BUFFER_BYTES,
  MIN_RECORD_SIZE,
  type RpcSettings,
} from "../rpc/settings.js";
import {
  DEFAULT_STORE_SETTINGS,
  PAYLOAD_STORES,
  POSTGRES_ROLES,
  S3_DURABILITIES,
  STORE_BACKENDS,
  type StoreSettings,
} from "../store/settings.js";
import {
  CLIENT_ADDRESS,
  EXPORT_PATH,
  HTTP_URL,
  LISTEN_ADDRESS,
  OPTIONAL_LISTEN_ADDRESS,
  POSTGRES_URL,
  S3_BUCKET,
} from "./formats.js";
import { DEFAULT_LISTEN, listenText } from "./listen.js";
import {
  MAX_TIMER_MS,
  MAX_UINT32,
  bytes,
  choice,
  count,
  flag,
  int,
  section,
  text,
  type Declarations,
  type DefaultValue,
  type LeafSetting,
  type Node,
  type ObjectNode,
} from "./schema.js";

/** pino's levels. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const DEFAULT_LOG_LEVEL = "info";

/** fattr4_lease_time is a uint32 (RFC 8881 §5.8.1.11). */
const MAX_LEASE_SEC = MAX_UINT32;
/** The grace timer runs for up to twice the grace period, in ms (recovery.ts). */
const MAX_GRACE_SEC = Math.floor(MAX_TIMER_MS / 2000);
/** The "postgres" backend renews its lease every third of it; below 3 s it would renew constantly. */
const MIN_POSTGRES_LEASE_SEC = 3;
const MAX_POSTGRES_LEASE_SEC = 3600;
/** An S3 object per block: smaller than a page is all overhead, larger than 1 GiB unwieldy. */
const MIN_S3_BLOCK_SIZE = 4096;
const MAX_S3_BLOCK_SIZE = 1 << 30;

const NFS = section<NfsSettings>(
  "The NFSv4.1 server's limits and policies (src/nfs/settings.ts).",
  DEFAULT_NFS_SETTINGS,
  {
    leaseTimeSec: int(
      1,
      MAX_LEASE_SEC,
      "the lease (fattr4 lease_time); a client silent for longer loses its sessions",
    ),
    graceTimeSec: int(
      0,
      MAX_GRACE_SEC,
      'the grace period after a restart on a data directory that recorded clients (see "Restart, grace and reclaim"): they reclaim their opens and locks, new opens and locks, LOCKT, REMOVE and RENAME get NFS4ERR_GRACE. Ends sooner once every recorded client has sent RECLAIM_COMPLETE, later (up to twice as long) while clients are still reclaiming. Keep it at least the lease time',
    ),
    courtesyTimeSec: count(
      0,
      "how long a client whose lease expired keeps its opens and locks while nobody else needs them",
    ),
    maxSlotsPerSession: count(
      1,
      "fore-channel slots per session (caps ca_maxrequests and how far a session's slot table grows)",
    ),
    maxBackchannelSlots: count(1, "back-channel slots per session"),
    callbackTimeoutMs: int(
      1,
      MAX_TIMER_MS,
      "how long one callback (CB_NULL probe, CB_COMPOUND) waits for the client's reply; then the session reports BACKCHANNEL_FAULT and the call is resent, with the same slot and sequence ID, on another back-channel connection",
    ),
    callbackRetryDelayMs: int(
      0,
      MAX_TIMER_MS,
      "the pause before resending a callback the client answered NFS4ERR_DELAY",
    ),
    maxCallbacksPerClient: count(
      0,
      "callbacks one client may have unfinished (sent, or waiting for a back channel, a slot or a retry); one more fails at once",
    ),
    maxRequestSize: bytes(0, MAX_UINT32, "ca_maxrequestsize"),
    maxResponseSize: bytes(0, MAX_UINT32, "ca_maxresponsesize"),
    maxResponseSizeCached: bytes(
      0,
      MAX_UINT32,
      "ca_maxresponsesize_cached: the largest reply a slot caches",
    ),
    maxOperations: count(2, "operations per COMPOUND (ca_maxoperations)"),
    replayCacheBudget: bytes(
      0,
      Number.MAX_SAFE_INTEGER,
      "bytes reserved for all replay caches: each session reserves slots × ca_maxresponsesize_cached at CREATE_SESSION, which grants fewer slots when the budget is short (NFS4ERR_NOSPC when not even one) and asks other sessions to shrink (sr_target_highest_slotid); a table grows, when its client keeps using its highest slot, only while the budget has room",
    ),
    maxClients: count(0, "client records"),
    maxSessionsPerClient: count(0, "sessions per client; one more is NFS4ERR_NOSPC"),
    maxStateidsPerClient: count(
      0,
      "open, lock and delegation stateids one client holds (and so its open-owners, lock-owners and their file state: about 0.9 KiB each, under 64 MiB per client). Beyond it an OPEN needing a new open stateid is NFS4ERR_NOSPC (checked before it creates the file) and a LOCK needing a new lock stateid NFS4ERR_SERVERFAULT (LOCK may not answer NOSPC; DELAY would have the client retry for ever); upgrading an open, or locking through a lock stateid held, still works. Logged once per client. Far above a Linux client's open files",
    ),
    maxIoSize: bytes(0, MAX_UINT32, "maxread/maxwrite advertised"),
    readBuffersKept: count(
      0,
      "buffers of `nfs.maxIoSize` bytes kept to hold the data of later READs once a READ's reply has been written (READs of more than half of `nfs.maxIoSize` use them; a new buffer per READ costs the garbage collector far more than the read); 0: a new buffer for every READ",
    ),
    maxReaddirEntries: count(0, "entries in one READDIR reply"),
    delegationPolicy: choice(
      NFS_SETTING_CHOICES.delegationPolicy!,
      'which file delegations OPEN grants: `"none"`, `"read"`, or `"read-write"` (a write delegation to a client opening for writing a file no other client has open). Only to clients whose back channel works',
    ),
    maxDelegations: count(
      0,
      "delegations in force over all clients; at 90% the holders are asked to return half (CB_RECALL_ANY, at most once a lease), at 100% no more are granted (WND4_RESOURCE)",
    ),
    recallCooldownSec: count(
      0,
      "no delegation of a file for this long after one of it was recalled (it is shared)",
    ),
    directoryDelegations: choice(
      NFS_SETTING_CHOICES.directoryDelegations!,
      'which directory delegations GET_DIR_DELEGATION grants: `"none"`; `"caching"` — without notifications (the reply\'s masks are empty), recalled by any change another client makes to the directory (create, remove, rename in or out, link, SETATTR of it); or `"notifications"` — with the CB_NOTIFY types asked for (add, remove, rename entry, child and directory attributes, cookie verifier) and the attributes asked for that GETATTR reports per object; a change no granted type describes recalls it as under `"caching"`. See "Directory notifications"',
    ),
    maxDirDelegationsPerClient: count(
      0,
      "directory delegations one client holds; beyond it GET_DIR_DELEGATION answers GDD4_UNAVAIL (they also count in `maxDelegations`)",
    ),
    maxNotifyDelayMs: int(
      0,
      MAX_TIMER_MS,
      "the longest attribute notifications are held back to batch them: the client's `gdda_child_attr_delay` / `gdda_dir_attr_delay` are clamped to it",
    ),
    notifyBatchMs: int(
      0,
      MAX_TIMER_MS,
      "how long entry notifications (add, remove, rename) wait for others to go in the same CB_NOTIFY; 0 sends at once, and changes made while a CB_NOTIFY is in flight go together in the next",
    ),
    maxQueuedNotifications: count(
      0,
      "changes queued for one directory delegation (a few hundred bytes each); one more recalls the delegation instead and drops the queue (RFC 8881 §10.9.4)",
    ),
  },
);

const RPC = section<RpcSettings>(
  "The RPC transport's limits (src/rpc/settings.ts).",
  DEFAULT_RPC_SETTINGS,
  {
    maxRecordSize: bytes(
      MIN_RECORD_SIZE,
      MAX_FRAGMENT_LENGTH,
      "one RPC record; a larger record mark closes the connection before any data is buffered",
    ),
    requestBuffersKept: int(
      0,
      MAX_REQUEST_BUFFERS_KEPT,
      'buffers of `maxRecordSize` bytes kept for later large requests: a record of more than half of `maxRecordSize` (a large WRITE) is read into one, which is reused once its call has been answered (a new buffer per WRITE costs the garbage collector more than the write) — or, when the `"memory"` backend keeps a whole 1 MiB WRITE\'s bytes where they arrived instead of copying them, once that part of the file is overwritten; also the most such buffers requests still arriving hold before half of them has arrived; 0: a new buffer for every large record',
    ),
    readBufferBytes: bytes(
      0,
      MAX_READ_BUFFER_BYTES,
      "the one buffer every connection's socket reads into (requests are copied out of it, so reading allocates nothing); 0: a new buffer from Node.js for every read, which V8 counts as external memory and answers, under a stream of large WRITEs, with frequent full garbage collections",
    ),
    maxConnections: count(1, "open connections; beyond it new ones are closed at once"),
    idleTimeoutMs: int(0, MAX_TIMER_MS, "a connection with no request for this long is closed"),
    maxFragmentsPerRecord: int(
      1,
      MAX_FRAGMENT_LENGTH,
      "fragments in one record (the Linux client sends one; 1024 admits a full-size record in 1 KiB fragments); more closes the connection, empty fragments included",
    ),
    maxConnectionOutputBytes: bytes(
      1,
      Number.MAX_SAFE_INTEGER,
      "reply bytes one connection holds: reserved by its calls in progress + written and not yet sent; at the bound it stops reading and reservations wait (sixteen 1 MiB READ replies; a connection holding nothing may still send one larger reply). Replaces `maxOutputBuffer`",
    ),
    maxTotalOutputBytes: bytes(
      1,
      Number.MAX_SAFE_INTEGER,
      "the same summed over all connections (at least `maxConnectionOutputBytes`); at the bound every connection stops reading",
    ),
    sendStallTimeoutMs: int(
      0,
      MAX_TIMER_MS,
      "a connection with unsent output whose peer takes none of it for this long is closed, releasing its bytes (twice the Linux client's 60 s TCP timeout); 0 disables",
    ),
    maxInFlightPerConnection: int(
      1,
      MAX_IN_FLIGHT_PER_CONNECTION,
      "calls processed at once per connection",
    ),
    drainTimeoutMs: int(0, MAX_TIMER_MS, "how long shutdown waits for calls in progress"),
  },
);

const STORE = section<StoreSettings>(
  "Where the files live (src/store/settings.ts): the server's own store and, without `exports`, the one export `/export`.",
  DEFAULT_STORE_SETTINGS,
  {
    backend: choice(
      STORE_BACKENDS,
      'where files live: `"sqlite"` (the data directory below, kept across restarts), `"postgres"` (the metadata in the PostgreSQL database `store.postgresUrl`, files\' contents in the data directory or S3: see "PostgreSQL and S3") or `"memory"` (lost when the server stops)',
    ),
    postgresUrl: text(
      "the `\"postgres\"` backend's database, `postgres://USER:PASSWORD@HOST:PORT/DB`; `dfs serve` stops at start with PostgreSQL's message when it cannot connect or log in (the password is masked in messages)",
      { format: POSTGRES_URL, secret: "url-password" },
    ),
    postgresPoolSize: count(
      1,
      'connections the `"postgres"` backend keeps to its database at most',
    ),
    postgresLeaseSec: int(
      MIN_POSTGRES_LEASE_SEC,
      MAX_POSTGRES_LEASE_SEC,
      "one server at a time serves a database: it holds a lease in it, renewed every third of this many seconds; a server that cannot renew stops committing with a third of the lease left and exits when it finds the lease taken, and a standby takes over once the lease of a dead server has run out",
    ),
    postgresRole: choice(
      POSTGRES_ROLES,
      '`"active"`: `dfs serve` stops at start, naming the holder, when another server holds the database\'s lease; `"standby"`: it waits for the lease, then serves (failover). A restart on the same machine and data directory takes its own lease back at once',
    ),
    payload: choice(
      PAYLOAD_STORES,
      'where the `"sqlite"` and `"postgres"` backends keep files\' contents: `"local"` (sparse files in the data directory) or `"s3"` (the bucket below, with a write-back tier in the data directory)',
    ),
    s3Endpoint: text(
      'the S3 service, `http(s)://HOST:PORT` (path-style requests); required with `"s3"`',
      { format: HTTP_URL },
    ),
    s3Region: text(
      'the region requests are signed for (radosgw: its zonegroup\'s name, `"default"`)',
    ),
    s3Bucket: text(
      "the bucket (it must exist); `dfs serve` stops at start when it cannot list it with the credentials given",
      { format: S3_BUCKET },
    ),
    s3Prefix: text(
      "prepended to every object key; each export of an `exports` list adds `exports/<path>/`",
    ),
    s3AccessKeyId: text(
      "the S3 credentials; both empty: the AWS SDK's own sources (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `~/.aws`)",
    ),
    s3SecretAccessKey: text("the secret of `store.s3AccessKeyId` (both empty or both set)", {
      secret: "whole",
    }),
    s3BlockSize: bytes(
      MIN_S3_BLOCK_SIZE,
      MAX_S3_BLOCK_SIZE,
      "bytes per object: a file is stored as objects `<prefix><payload id>/<block number, 8 hex digits>`",
    ),
    s3Durability: choice(
      S3_DURABILITIES,
      'when COMMIT and FILE_SYNC writes return: `"local"` once the changed blocks are synced in the write-back tier (they reach the bucket in the background, and after a crash at the next start), `"remote"` once the bucket holds them',
    ),
    s3UploadDelayMs: int(
      0,
      MAX_TIMER_MS,
      'a changed block is uploaded after this long without writes (at once when a COMMIT with `"remote"` durability waits for it, or the write-back tier is full)',
    ),
    s3UploadConcurrency: count(1, "uploads in progress at once"),
    s3MaxDirtyBlocks: count(
      1,
      "changed blocks the write-back tier holds at most (each up to `s3BlockSize` on disk); a write that needs another waits for uploads",
    ),
    s3CapacityBytes: bytes(
      1,
      Number.MAX_SAFE_INTEGER,
      "what `df` (FSSTAT's space attributes) shows as the size and the free space of an export on S3: an object store has no size, and counting what the bucket holds would take a LIST of all of it",
    ),
    dataDir: text(
      'the `"sqlite"` backend\'s data directory (relative to the working directory), created if missing; `dfs serve` stops with an error when it is not writable or another live server process holds its `lock` file',
      { nonEmpty: true },
    ),
    maxOpenPayloads: count(
      1,
      'file descriptors the `"sqlite"` backend keeps open on payload files (least recently used are closed)',
    ),
    inlineIoMaxBytes: bytes(
      0,
      16 * 1024 * 1024,
      "payload reads and writes of at most this many bytes, and the opening, closing and unlinking of payload files that small, run on the server's main thread: a hand-off to a worker thread and back costs more CPU than a small copy to or from the page cache. Bigger transfers, syncs and truncations always use the worker threads; 0 sends everything there (for a data directory on a slow or network filesystem)",
    ),
    writeBehindFileMaxBytes: bytes(
      0,
      16 * 1024 * 1024,
      'a write of at most this many bytes to a file of the `"sqlite"` and `"postgres"` backends is held in the server\'s memory (up to this many bytes per file) until the file\'s COMMIT (or a FILE_SYNC write), another use of its contents, or the two limits below: a small file written and removed before any COMMIT never reaches the disk. Nothing acknowledged as stable is held: a crash loses only unstable writes, which clients send again when the write verifier changes; 0: every write goes to the file at once',
    ),
    writeBehindMaxBytes: bytes(
      0,
      1024 * 1024 * 1024,
      "bytes held by `store.writeBehindFileMaxBytes` for all files at most (each file counts at least 4 KiB); the oldest are written out first",
    ),
    writeBehindMaxAgeMs: int(
      0,
      MAX_TIMER_MS,
      "held writes, and the sizes and times held by `store.heldAttributesFiles`, are written out at the latest this long after the first of them (ms)",
    ),
    heldAttributesFiles: count(
      0,
      'files of the `"sqlite"` backend whose new size and times after an unstable WRITE are held in the server\'s memory, at most, instead of a metadata transaction per WRITE: until the next change of the file, its COMMIT, or `store.writeBehindMaxAgeMs`. Like the data of such writes they are durable only after COMMIT; 0: every WRITE stores them at once',
    ),
    cleanTailFiles: count(
      0,
      "files the server remembers as holding nothing past their size (made, cut or extended by this run), at most, about 0.1 KiB each: a WRITE that makes a file longer cuts the file's stored contents to its size first unless the file is remembered, so that a crash that keeps the new size but not an unstable WRITE's data shows zeros there, never bytes an earlier truncation cut. The oldest are forgotten first; a forgotten file costs one cut more; 0 remembers none",
    ),
    objectCacheEntries: count(
      0,
      'decoded object records (attributes), and as many directory entries found by name, the `"sqlite"` and `"postgres"` backends keep in memory (about 0.5 KiB per record, 0.2 KiB per entry), least recently used dropped first; the `"sqlite"` backend also keeps as many names of whole directory listings, for READDIR; 0 reads every one from the database. PostgreSQL\'s is used only while the server surely holds the store\'s lease (only the holder writes)',
    ),
    inlineSyncMaxMs: int(
      0,
      MAX_TIMER_MS,
      'the `"sqlite"` backend makes each change durable (fdatasync of its log) before it answers; when no other change waits to share that sync, it runs on the server\'s main thread, sparing a hand-off to a worker thread and back, as long as such syncs take at most this long on average (ms). Slower disks get the worker thread, where one sync serves every change made meanwhile; 0 always uses it',
    ),
    batchTransactions: count(
      1,
      'transactions the `"sqlite"` backend finds queued back to back, or that start in one turn of its event loop, that share one SQL transaction, one COMMIT and one sync of its log, at most: changes in one directory then touch its pages once per batch instead of once each. Every change still waits for its batch to be durable before it is answered; 1: each commits alone',
    ),
  },
);

const CONTROL = section<ControlSettings>(
  "The control API dfsctl talks to (src/control/settings.ts).",
  DEFAULT_CONTROL_SETTINGS,
  {
    socket: text(
      'the Unix socket the control API listens on (mode 0600: only processes that may open it reach the API); `""`: the file `control.sock` in `store.dataDir`; `"none"`: no socket',
    ),
    listen: text(
      'a TCP address for the control API as well; `""`: none. Requests over TCP must carry `control.token` as a bearer token',
      { format: OPTIONAL_LISTEN_ADDRESS },
    ),
    token: text(
      "the bearer token TCP requests must carry; required with `control.listen`, at least 16 characters",
      { secret: "whole" },
    ),
  },
);

const METRICS = section<MetricsSettings>(
  "The Prometheus metrics listener (src/control/settings.ts).",
  DEFAULT_METRICS_SETTINGS,
  {
    listen: text(
      'the TCP address serving Prometheus metrics at `GET /metrics` (see "Metrics"); `""`: no metrics listener, and no operation is counted or timed for it',
      {
        format: OPTIONAL_LISTEN_ADDRESS,
      },
    ),
  },
);

/** One entry of `exports` as the file spells it (config/exports.ts makes an ExportConfig of it). */
export interface ExportEntry {
  readonly path: string;
  readonly id: number;
  readonly backend: string;
  readonly dataDir: string;
  readonly postgresUrl: string;
  readonly payload: string;
  readonly clients: readonly string[];
  readonly readOnly: boolean;
  readonly squash: string;
  readonly anonuid: number;
  readonly anongid: number;
  readonly sec: readonly string[];
}

export const SQUASH_MODES = ["none", "root", "all"] as const;

const FLAVOR_BY_NUMBER = new Map([...FLAVOR_NAMES].map(([name, n]) => [n, name]));

const EXPORT_DECLARATIONS: Declarations<ExportEntry> = {
  path: text(
    'where the export appears: an absolute path such as `"/data"` or `"/a/b"` (not `/`); no two exports may have the same path or one inside another. The directories above it are the pseudo-filesystem\'s',
    {
      format: EXPORT_PATH,
      defaultText: "(required)",
    },
  ),
  id: {
    ...int(
      1,
      MAX_UINT32,
      "the export id every file handle of the export carries (1 … 4294967295; unique). Handles stay valid across restarts while the export keeps its id; after a change of id or path they are `NFS4ERR_STALE` (never another export's files). Set it to keep handles when renaming `path`",
    ),
    defaultText: "a 32-bit hash of `path`",
  },
  backend: {
    ...choice(STORE_BACKENDS, "where the export's files live"),
    defaultText: "`store.backend`",
  },
  dataDir: text(
    'the `"sqlite"` and `"postgres"` backends\' data directory (absolute, or relative to the working directory); two exports may not share one (or nest), nor may one hold `store.dataDir`',
    {
      nonEmpty: true,
      defaultText: '`<store.dataDir>/exports/<path components joined by "-">`',
    },
  ),
  postgresUrl: text(
    "the export's own PostgreSQL database (not `store.postgresUrl`, and not another export's)",
    {
      format: POSTGRES_URL,
      secret: "url-password",
      defaultText: '(required for `"postgres"`)',
    },
  ),
  payload: {
    ...choice(
      PAYLOAD_STORES,
      'where the export\'s files\' contents live: `"local"` (its data directory) or `"s3"` (the bucket of the `store.s3*` settings, under `<store.s3Prefix>exports/<path components joined by "-">/`); not for `"memory"`. So one server can serve, say, `/scratch` from memory, `/home` from SQLite and local files, and `/archive` from PostgreSQL and S3',
    ),
    defaultText: "`store.payload`",
  },
  clients: {
    kind: "list",
    item: text("a client address or prefix", { format: CLIENT_ADDRESS }),
    minItems: 1,
    unique: false,
    description:
      'IPv4/IPv6 addresses and CIDR prefixes (`"10.0.0.0/8"`, `"::1"`) of the clients that may use the export, matched against the connection\'s peer address (an IPv4-mapped IPv6 peer counts as its IPv4 address). Another client does not see it: LOOKUP answers `NFS4ERR_NOENT`, READDIR of the pseudo-filesystem leaves it (and directories leading only to hidden exports) out, and its file handles are `NFS4ERR_STALE` (as Linux nfsd)',
    defaultText: "every client",
  },
  readOnly: flag(
    "every modifying operation answers `NFS4ERR_ROFS` before any permission check: CREATE, OPEN with create or write access, WRITE, SETATTR, REMOVE, RENAME, LINK, SETXATTR, REMOVEXATTR, ALLOCATE, DEALLOCATE; ACCESS grants no right that needs writing. COMMIT succeeds (RFC 8881 gives it no ROFS; there is nothing to commit)",
  ),
  squash: choice(
    SQUASH_MODES,
    '`"root"`: uid 0 and gid 0 (also among the supplementary groups) become `anonuid`/`anongid`; `"all"`: every caller becomes `anonuid`/`anongid` with no supplementary groups. Applies to everything a credential decides: permission checks, the owner of created objects, SETATTR of owner/group. (Linux nfsd defaults to root squash; this server keeps its earlier behaviour unless told)',
  ),
  anonuid: int(0, MAX_UINT32, "the uid squashed callers get"),
  anongid: int(0, MAX_UINT32, "the gid squashed callers get"),
  sec: {
    kind: "list",
    item: choice([...FLAVOR_NAMES.keys()], "an RPC security flavor"),
    minItems: 1,
    unique: true,
    description:
      'the RPC flavors the export accepts, most preferred first: `"sys"` (AUTH_SYS), `"none"` (AUTH_NONE). SECINFO and SECINFO_NO_NAME answer them; a request with another flavor gets `NFS4ERR_WRONGSEC` where RFC 8881 §2.6.3.1.1 says (LOOKUP or LOOKUPP into the export, OPEN in it, a PUTFH of its handle followed by anything but LOOKUP, LOOKUPP, OPEN, SECINFO, SECINFO_NO_NAME or another PUTFH). The pseudo-filesystem accepts every flavor some export accepts',
  },
};

/** The defaults of an export's access rules, as the file spells them. */
const EXPORT_RULE_DEFAULTS = new Map<string, DefaultValue>([
  ["readOnly", DEFAULT_EXPORT_RULES.readOnly],
  ["squash", DEFAULT_EXPORT_RULES.squash],
  ["anonuid", DEFAULT_EXPORT_RULES.anonUid],
  ["anongid", DEFAULT_EXPORT_RULES.anonGid],
  ["sec", DEFAULT_EXPORT_RULES.flavors.map((f) => FLAVOR_BY_NUMBER.get(f) ?? String(f))],
]);

function exportNode(): ObjectNode {
  const fields: { [key: string]: Node } = {};
  for (const [key, decl] of Object.entries(EXPORT_DECLARATIONS) as [string, LeafSetting][]) {
    const value = EXPORT_RULE_DEFAULTS.get(key);
    fields[key] = value === undefined ? decl : { ...decl, default: value };
  }
  return { kind: "object", description: "One export.", fields, required: ["path"] };
}

/** The whole configuration file. */
export const CONFIG_DECLARATION: ObjectNode = {
  kind: "object",
  description: "The configuration of `dfs serve` (DittoFS-TS). Every key is optional.",
  fields: {
    listen: {
      kind: "list",
      item: text("an address", { format: LISTEN_ADDRESS }),
      minItems: 0,
      unique: false,
      description:
        "the addresses to serve NFS on; every address serves the same server (same `server_owner` and `server_scope`), so clients can trunk across them. `--listen` replaces the list",
      default: [listenText(DEFAULT_LISTEN)],
    },
    nfs: NFS,
    rpc: RPC,
    store: STORE,
    exports: {
      kind: "objects",
      description:
        'the list of exports, each with its backend and access rules (see "Exports"); absent: one export, `/export`, on `store`',
      defaultText: "absent",
      item: exportNode(),
      minItems: 1,
    },
    logLevel: {
      ...choice(LOG_LEVELS, "pino's level for the JSON log lines on stdout"),
      default: DEFAULT_LOG_LEVEL,
    },
    control: CONTROL,
    metrics: METRICS,
  },
};
