import { sha256 } from '../events/event.js'

// One byte prefix per key family; all families live in one column family so that index
// entries and log checkpoints are written in one atomic batch.
export const P = {
  event: 0x01, // E id -> location + event JSON
  created: 0x02, // C ts id
  author: 0x03, // A pubkey ts id
  kind: 0x04, // K kind ts id
  authorKind: 0x05, // P pubkey kind ts id
  tag: 0x06, // T letter h16(value) ts id
  head: 0x07, // R h(kind:pubkey:d) -> id + ts
  deletedId: 0x08, // X id pubkey (NIP-09 `e` deletion by that pubkey)
  deletedAddr: 0x09, // Y h(kind:pubkey:d) -> ts of the newest deletion
  expires: 0x0a, // Z ts id (NIP-40)
  checkpoint: 0x0b, // L logKey -> next block + log number
  meta: 0x0c, // N name -> value
  logNum: 0x0d, // G logNum -> logKey
  blockPriority: 0x0e // B logNum block -> priority class of the block (events/priority.ts)
} as const

const MAX_TS = 0xffffffff

export const hex = (s: string): Buffer => Buffer.from(s, 'hex')
export const h16 = (s: string): Buffer => sha256(s).subarray(0, 16)

function key (prefix: number, ...parts: Array<Buffer | number | [number, 2]>): Buffer {
  let len = 1
  for (const p of parts) len += Buffer.isBuffer(p) ? p.length : Array.isArray(p) ? 2 : 4
  const b = Buffer.allocUnsafe(len)
  b[0] = prefix
  let o = 1
  for (const p of parts) {
    if (Buffer.isBuffer(p)) { p.copy(b, o); o += p.length } else if (Array.isArray(p)) { b.writeUInt16BE(p[0], o); o += 2 } else { b.writeUInt32BE(p, o); o += 4 }
  }
  return b
}

const ts = (t: number): number => Math.min(Math.max(t, 0), MAX_TS)
const ID_MIN = Buffer.alloc(32, 0)
const ID_MAX = Buffer.alloc(32, 0xff)

export const eventKey = (id: Buffer): Buffer => key(P.event, id)
export const createdKey = (t: number, id: Buffer): Buffer => key(P.created, ts(t), id)
export const authorKey = (pk: Buffer, t: number, id: Buffer): Buffer => key(P.author, pk, ts(t), id)
export const kindKey = (kind: number, t: number, id: Buffer): Buffer => key(P.kind, [kind, 2], ts(t), id)
export const authorKindKey = (pk: Buffer, kind: number, t: number, id: Buffer): Buffer => key(P.authorKind, pk, [kind, 2], ts(t), id)
export const tagKey = (letter: string, value: string, t: number, id: Buffer): Buffer =>
  key(P.tag, Buffer.from([letter.charCodeAt(0) & 0xff]), h16(value), ts(t), id)
export const headKey = (addr: string): Buffer => key(P.head, h16(addr))
export const deletedIdKey = (id: Buffer, pk: Buffer): Buffer => key(P.deletedId, id, pk)
export const deletedAddrKey = (addr: string): Buffer => key(P.deletedAddr, h16(addr))
export const expiresKey = (t: number, id: Buffer): Buffer => key(P.expires, ts(t), id)
export const checkpointKey = (logKey: Buffer): Buffer => key(P.checkpoint, logKey)
export const metaKey = (name: string): Buffer => key(P.meta, Buffer.from(name))
export const logNumKey = (n: number): Buffer => key(P.logNum, n)
export const blockPriorityKey = (logNum: number, block: number): Buffer => key(P.blockPriority, logNum, block)

/**
 * A time-ordered index range: `prefixParts` identify the cursor (e.g. an author), and the
 * range covers created_at in [since, until]. Keys end with ts(4) + id(32).
 */
export function timeRange (prefix: number, prefixParts: Array<Buffer | [number, 2]>, since: number, until: number): { gte: Buffer, lte: Buffer } {
  return {
    gte: key(prefix, ...prefixParts, ts(since), ID_MIN),
    lte: key(prefix, ...prefixParts, ts(until), ID_MAX)
  }
}

/** The id (last 32 bytes) and created_at (the 4 before) of a time-ordered index key. */
export function splitTimeKey (k: Buffer): { ts: number, id: Buffer } {
  return { ts: k.readUInt32BE(k.length - 36), id: k.subarray(k.length - 32) }
}

export { MAX_TS }

export function u64 (n: number): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(BigInt(Math.max(0, n)))
  return b
}
