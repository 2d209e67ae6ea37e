import c from 'compact-encoding'
import type { LogEntry } from './admission.js'

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
