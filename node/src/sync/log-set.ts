import { promises as fs } from 'node:fs'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import type Hypercore from 'hypercore'
import type { Logger } from 'pino'
import type { Store } from '../store/store.js'
import type { Community } from './community.js'
import { verifyEntry, type LogEntry } from './admission.js'
import { writeFileDurable } from '../store/node-file.js'

/** Most logs of other nodes one node carries (bounded memory: ~11 KB heap per open core). */
export const MAX_LOGS = 10_000

interface Held {
  entry: LogEntry
  core: Hypercore
  own: boolean
  range: { destroy (): void } | null
  indexing: Promise<void> | null
  again: boolean
}

interface SyncFileV1 {
  version: 1
  community: string
  /** Node log epochs from this one on belong to this community. */
  fromEpoch: number
  logs: Array<{ log: string, node: string, admission: string, logSig: string }>
}

const FILE = 'sync.json'
const SAVE_DELAY_MS = 500

/**
 * Every admitted log this node stores for its community: its own (signed with the node key)
 * and replicated ones (checked before they are opened). Each is held open with a linear
 * download (Corestore would otherwise close cores opened only for a remote and a transfer
 * stalls), and each replicated block is indexed through the store's untrusted path as it
 * arrives. Emits 'log' (LogEntry) for every log added.
 */
export class LogSet extends EventEmitter {
  private readonly held = new Map<string, Held>()
  private readonly store: Store
  private readonly community: Community
  private readonly dataDir: string
  private readonly log: Logger
  private fromEpoch = 0
  private saveTimer: NodeJS.Timeout | null = null
  private saving: Promise<void> = Promise.resolve()
  private closed = false
  private full = false

  constructor (opts: { store: Store, community: Community, dataDir: string, log: Logger }) {
    super()
    this.store = opts.store
    this.community = opts.community
    this.dataDir = opts.dataDir
    this.log = opts.log
  }

  /**
   * Loads the logs this node already carries for its community. When the data dir was last
   * used for another community, the node moves onto a fresh log so the old community's events
   * are never certified into this one.
   */
  async open (): Promise<void> {
    const file = await this.readFile()
    const me = this.community.publicKey.toString('hex')
    if (file === null) {
      this.fromEpoch = 0
    } else if (file.community !== me) {
      await this.store.nodeLog.rotate(`joined community ${me.slice(0, 16)}`)
      this.fromEpoch = this.store.nodeLog.epoch
      this.log.warn({ from: file.community, to: me, epoch: this.fromEpoch }, 'data dir was used for another community: writing to a new log from now on')
    } else {
      this.fromEpoch = file.fromEpoch
      for (const l of file.logs) {
        const entry = { log: Buffer.from(l.log, 'hex'), node: Buffer.from(l.node, 'hex'), admission: Buffer.from(l.admission, 'hex'), logSig: Buffer.from(l.logSig, 'hex') }
        if (!verifyEntry(this.community, entry)) { this.log.warn({ log: l.log }, 'dropping a stored log whose certificate no longer checks'); continue }
        await this.hold(entry, false)
      }
    }
    await this.save()
  }

  /** This node's own logs for the community (not ones written before it joined). */
  ownLogs (): Hypercore[] {
    return this.store.nodeLog.logs.slice(this.fromEpoch)
  }

  has (key: Buffer): boolean { return this.held.has(key.toString('hex')) }

  get size (): number { return this.held.size }

  /** Every held log's core, own ones included (the delivery view samples their peers). */
  cores (): Array<{ key: string, own: boolean, core: Hypercore }> {
    return [...this.held.entries()].map(([key, h]) => ({ key, own: h.own, core: h.core }))
  }

  entries (): LogEntry[] {
    return [...this.held.values()].map(h => h.entry)
  }

  /** Adds our own log (signed by the caller). */
  async addOwn (entry: LogEntry): Promise<boolean> {
    if (this.has(entry.log)) return false
    await this.hold(entry, true)
    this.emit('log', entry)
    return true
  }

  /**
   * Adds a log a peer announced, once its certificate chain checks out. Returns false for a
   * known, refused or (past MAX_LOGS) dropped log; throws nothing on bad input.
   */
  async addRemote (entry: LogEntry): Promise<'added' | 'known' | 'refused' | 'full'> {
    if (this.closed) return 'known'
    if (this.has(entry.log)) return 'known'
    if (!verifyEntry(this.community, entry)) return 'refused'
    if (this.held.size >= MAX_LOGS) {
      if (!this.full) this.log.warn({ max: MAX_LOGS }, 'carrying the most logs allowed; ignoring new ones')
      this.full = true
      return 'full'
    }
    await this.hold(entry, false)
    this.scheduleSave()
    this.emit('log', entry)
    return 'added'
  }

  private async hold (entry: LogEntry, own: boolean): Promise<void> {
    const hex = entry.log.toString('hex')
    const ownCore = own ? this.store.nodeLog.logs.find(c => c.key.equals(entry.log)) : undefined
    // our own logs are open in NodeLog; a session of our own keeps replicated ones alive
    const core = ownCore ?? this.store.corestore.get({ key: entry.log })
    const h: Held = { entry, core, own: ownCore !== undefined, range: null, indexing: null, again: false }
    this.held.set(hex, h)
    await core.ready()
    if (h.own) return
    h.range = core.download({ start: 0, end: -1, linear: true })
    const kick = (): void => { this.index(h) }
    core.on('append', kick)
    core.on('download', kick)
    this.index(h)
  }

  /** Serialised per log; coalesces bursts of 'download' events into one catch-up. */
  private index (h: Held): void {
    if (this.closed) return
    if (h.indexing !== null) { h.again = true; return }
    h.indexing = (async () => {
      do {
        h.again = false
        try {
          await this.store.indexReplicatedLog(h.core, { stop: () => this.closed })
        } catch (err) {
          this.log.error({ err, log: h.entry.log.toString('hex') }, 'indexing a replicated log failed')
          return
        }
      } while (h.again && !this.closed)
    })().finally(() => { h.indexing = null })
  }

  /** Per log: length, what is here contiguously, what peers have, invalid events skipped. */
  status (): Array<Record<string, unknown>> {
    return [...this.held.values()].map(h => {
      const remote = h.core.peers.reduce((m, p) => Math.max(m, p.remoteLength), 0)
      const length = Math.max(h.core.length, remote)
      return {
        key: h.entry.log.toString('hex'),
        node: h.entry.node.toString('hex'),
        own: h.own,
        length,
        available: h.core.contiguousLength,
        lag: length - h.core.contiguousLength,
        peers: h.core.peers.length,
        invalidEvents: this.store.invalidEvents(h.entry.log.toString('hex'))
      }
    })
  }

  private async readFile (): Promise<SyncFileV1 | null> {
    const file = path.join(this.dataDir, FILE)
    try {
      const v = JSON.parse(await fs.readFile(file, 'utf8')) as SyncFileV1
      if (v.version !== 1 || typeof v.community !== 'string' || !Array.isArray(v.logs) || !Number.isSafeInteger(v.fromEpoch)) throw new Error('unknown format')
      return v
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw Object.assign(new Error(`${file} is unreadable: ${(err as Error).message}`), { code: 'ERR_SYNC_FILE' })
    }
  }

  private scheduleSave (): void {
    if (this.saveTimer !== null || this.closed) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null
      this.save().catch(err => this.log.error({ err }, 'saving the list of logs failed'))
    }, SAVE_DELAY_MS)
  }

  private async save (): Promise<void> {
    const v: SyncFileV1 = {
      version: 1,
      community: this.community.publicKey.toString('hex'),
      fromEpoch: this.fromEpoch,
      logs: [...this.held.values()].filter(h => !h.own).map(({ entry: e }) => ({ log: e.log.toString('hex'), node: e.node.toString('hex'), admission: e.admission.toString('hex'), logSig: e.logSig.toString('hex') }))
    }
    const next = this.saving.then(async () => await writeFileDurable(path.join(this.dataDir, FILE), JSON.stringify(v) + '\n'))
    this.saving = next.catch(() => {})
    await next
  }

  /** Stops indexing, saves, and closes the sessions on replicated logs (not the store's). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.saveTimer !== null) { clearTimeout(this.saveTimer); this.saveTimer = null }
    await this.save().catch(err => this.log.error({ err }, 'saving the list of logs failed'))
    for (const h of this.held.values()) {
      if (h.indexing !== null) await h.indexing
      if (h.own) continue
      h.range?.destroy()
      await h.core.close().catch(() => {})
    }
  }
}
