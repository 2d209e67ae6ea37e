import c from 'compact-encoding'
import type { LogEntry } from './admission.js'
import { Priority, type PriorityRun } from '../events/priority.js'

/** Our protomux channel: 'outpost/sync', one per community (id = channelId(community)). */
export const CHANNEL_PROTOCOL = 'outpost/sync'

/** Most log entries in one message; a longer list is sent in several. */
export const MAX_ENTRIES_PER_MESSAGE = 256

export interface Hello {
  version: number
  /** The community's signature over the sender's node key; empty in an open community. */
  admission: Buffer
}

export const hello = {
  preencode (state: c.State, m: Hello): void {
    c.uint.preencode(state, m.version)
    c.buffer.preencode(state, m.admission)
  },
  encode (state: c.State, m: Hello): void {
    c.uint.encode(state, m.version)
    c.buffer.encode(state, m.admission)
  },
  decode (state: c.State): Hello {
    const version = c.uint.decode(state)
    const admission = c.buffer.decode(state) ?? Buffer.alloc(0)
    return { version, admission: Buffer.from(admission) }
  }
}

const entry = {
  preencode (state: c.State, e: LogEntry): void {
    c.fixed32.preencode(state, e.log)
    c.fixed32.preencode(state, e.node)
    c.buffer.preencode(state, e.admission)
    c.fixed64.preencode(state, e.logSig)
  },
  encode (state: c.State, e: LogEntry): void {
    c.fixed32.encode(state, e.log)
    c.fixed32.encode(state, e.node)
    c.buffer.encode(state, e.admission)
    c.fixed64.encode(state, e.logSig)
  },
  decode (state: c.State): LogEntry {
    const log = Buffer.from(c.fixed32.decode(state))
    const node = Buffer.from(c.fixed32.decode(state))
    const admission = Buffer.from(c.buffer.decode(state) ?? Buffer.alloc(0))
    const logSig = Buffer.from(c.fixed64.decode(state))
    return { log, node, admission, logSig }
  }
}

/** Admitted logs the sender holds (sent in full on open, then each new one as it appears). */
export const logList = c.array(entry)

/** Most runs in one priority answer; a longer answer stops early and says where. */
export const MAX_PRIORITY_RUNS = 4096
/** Most blocks one priority request may cover. */
export const MAX_PRIORITY_SPAN = 1 << 20

/** "Which of blocks [from, to) of this log are messages, text, bulky?" */
export interface PriorityRequest { log: Buffer, from: number, to: number }

/** The classes the sender knows for blocks [from, end) of a log; blocks it has not indexed are left out. */
export interface PriorityAnswer { log: Buffer, from: number, end: number, runs: PriorityRun[] }

/**
 * A codec for a message of fixed fields, encoded in the order given; `check` may reject a
 * decoded value (a decode error: the stream is dropped).
 */
function struct<T extends object> (fields: Array<[keyof T, c.Encoder<any>]>, check?: (v: T) => void): c.Encoder<T> {
  return {
    preencode (state: c.State, m: T): void { for (const [k, enc] of fields) enc.preencode(state, m[k]) },
    encode (state: c.State, m: T): void { for (const [k, enc] of fields) enc.encode(state, m[k]) },
    decode (state: c.State): T {
      const v: Record<string, unknown> = {}
      for (const [k, enc] of fields) { const x: unknown = enc.decode(state); v[k as string] = Buffer.isBuffer(x) ? Buffer.from(x) : x }
      check?.(v as T)
      return v as T
    }
  }
}

export const priorityRequest = struct<PriorityRequest>([['log', c.fixed32], ['from', c.uint], ['to', c.uint]])

const run = struct<PriorityRun>([['start', c.uint], ['length', c.uint], ['priority', c.uint]], r => {
  if (r.priority > Priority.Bulk) throw new Error('unknown priority class')
})

export const priorityAnswer = struct<PriorityAnswer>([['log', c.fixed32], ['from', c.uint], ['end', c.uint], ['runs', c.array(run)]])

/**
 * The sender's wall clock (ms since the epoch, its node's best time) and whether it has an uplink
 * (then its clock has NTP), sent once when a session opens. Any uint decodes; a value that is not
 * a safe integer is a violation, an implausible one is ignored (node/src/system/clock.ts).
 */
export interface ClockMessage { now: number, online: boolean }

export const clockMessage = struct<ClockMessage>([['now', c.uint], ['online', c.bool]], m => {
  if (!Number.isSafeInteger(m.now)) throw new Error('clock value out of range')
})
