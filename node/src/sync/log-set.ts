import { promises as fs } from 'node:fs'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import type Hypercore from 'hypercore'
import type { Logger } from 'pino'
import type { Store } from '../store/store.js'
import type { Community } from './community.js'
import { verifyEntry, type LogEntry } from './admission.js'
import { writeFileDurable } from '../store/node-file.js'
import { Priority, type PriorityRun } from '../events/priority.js'

/** Most logs of other nodes one node carries (bounded memory: ~11 KB heap per open core). */
export const MAX_LOGS = 10_000

interface Range { done (): Promise<void>, destroy (): void }

interface Held {
  entry: LogEntry
  core: Hypercore
  own: boolean
  /** The linear download of everything (closed while urgent blocks go first). */
  range: Range | null
  indexing: Promise<void> | null
  again: boolean
  /** idle: in order; asking: waiting for a peer to say which blocks are urgent; fetching: urgent ones first. */
  stage: 'idle' | 'asking' | 'fetching'
  askTimer: NodeJS.Timeout | null
  askedAt: number
  /** Peers asked in this round that have not answered yet. */
  waiting: number
  /** Urgent blocks asked for and not yet here. */
  wanted: Set<number>
  stageRanges: Range[]
  /** Urgent blocks that arrived, to index ahead of the contiguous part. */
  arrived: number[]
  /** Blocks indexed ahead of the contiguous part (the in-order catch-up skips them). */
  ahead: Set<number>
}

/** Fewer missing blocks than this are fetched in order, with no round trip for priorities. */
export const PRIORITY_MIN_BACKLOG = 2
/** How long to wait for a peer to say which blocks are urgent before fetching in order. */
const PRIORITY_ANSWER_MS = 3000
/** While fetching in order, how often a peer is asked again (new messages may be behind bulk). */
const PRIORITY_REASK_MS = 5000
/** How long one class of blocks may hold back the next; then everything is fetched side by side. */
const PRIORITY_STAGE_MS = 60_000

/** A priority request for the missing part of a log (see LogSet.askPeers). */
export interface Backlog { log: Buffer, from: number, to: number }

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
  /** The disk is below its free-space reserve: no block is fetched or indexed (serving goes on). */
  private paused = false
  private readonly priorities: boolean
  /** Sends a priority request to every connected peer; returns how many were asked (set by the sync manager). */
  askPeers: (b: Backlog) => number = () => 0

  /**
   * `priorities: false` fetches every log strictly in order (the behaviour before priority
   * classes; kept for the benchmark's side-by-side figure).
   */
  constructor (opts: { store: Store, community: Community, dataDir: string, log: Logger, priorities?: boolean }) {
    super()
    this.store = opts.store
    this.community = opts.community
    this.dataDir = opts.dataDir
    this.log = opts.log
    this.priorities = opts.priorities !== false
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
    const h: Held = { entry, core, own: ownCore !== undefined, range: null, indexing: null, again: false, stage: 'idle', askTimer: null, askedAt: 0, waiting: 0, wanted: new Set(), stageRanges: [], arrived: [], ahead: new Set() }
    this.held.set(hex, h)
    await core.ready()
    if (h.own) return
    core.on('append', () => { this.consider(h); this.index(h) })
    core.on('peer-add', () => { this.consider(h) })
    core.on('download', (seq: number, bytes: number) => {
      this.downloaded(bytes)
      if (h.wanted.delete(seq)) h.arrived.push(seq)
      this.index(h)
    })
    this.consider(h)
    this.index(h)
  }

  /**
   * Decides how the missing part of a replicated log is fetched. A few blocks: in order. More
   * (a backlog, as when an uplink comes up): first ask the peers which blocks hold private
   * messages and which short text (they answer from their index), fetch those first, then the
   * rest in order, so a budget or a thin uplink is spent on messages before bulky data. While
   * nothing is known the log is not fetched at all: a fresh log learns its length from the
   * first peer, which calls this again.
   */
  private consider (h: Held): void {
    if (this.closed || this.paused || h.own || h.stage !== 'idle') return
    const { core } = h
    const backlog = core.length - core.contiguousLength
    if (core.length === 0) return
    if (!this.priorities || backlog < PRIORITY_MIN_BACKLOG) { this.fetchAll(h); return }
    // already fetching in order: ask again now and then, without pausing
    if (h.range !== null && Date.now() - h.askedAt < PRIORITY_REASK_MS) return
    const b: Backlog = { log: h.entry.log, from: core.contiguousLength, to: core.length }
    h.askedAt = Date.now()
    h.waiting = this.askPeers(b)
    if (h.waiting === 0) { this.fetchAll(h); return } // nobody to ask: in order (a peer that comes asks again)
    this.log.debug({ log: h.entry.log.toString('hex'), from: b.from, to: b.to, peers: h.waiting }, 'asking peers which blocks are urgent')
    h.stage = 'asking'
    h.askTimer = setTimeout(() => { this.stopAsking(h) }, PRIORITY_ANSWER_MS)
    h.askTimer.unref()
  }

  /** No (more) answer worth waiting for: fetch in order. */
  private stopAsking (h: Held): void {
    if (h.askTimer !== null) { clearTimeout(h.askTimer); h.askTimer = null }
    if (h.stage !== 'asking') return
    h.stage = 'idle'
    this.fetchAll(h)
  }

  private fetchAll (h: Held): void {
    if (h.range === null && !this.closed && !this.paused) h.range = h.core.download({ start: 0, end: -1, linear: true }) as Range
  }

  /**
   * A peer's answer to a priority request: the priority class of blocks [from, end) of a log,
   * as far as its index knows them. The first answer naming urgent blocks is acted on; when
   * every peer asked answered with nothing of use, the log is fetched in order at once.
   */
  prioritize (log: Buffer, from: number, end: number, runs: PriorityRun[]): void {
    const h = this.held.get(log.toString('hex'))
    if (h === undefined || h.own || h.stage !== 'asking' || this.closed) return
    h.waiting--
    const stages = this.plan(h, from, end, runs)
    if (stages === null) {
      // names nothing urgent and does not cover every missing block: another peer may know more
      if (h.waiting <= 0) this.stopAsking(h)
      return
    }
    if (stages.every(x => x.length === 0)) { this.stopAsking(h); return }
    if (h.askTimer !== null) { clearTimeout(h.askTimer); h.askTimer = null }
    h.stage = 'fetching'
    h.range?.destroy()
    h.range = null
    this.log.debug({ log: log.toString('hex'), messages: stages[0]?.length, text: stages[1]?.length }, 'fetching urgent blocks first')
    this.fetchStages(h, stages).catch(err => { this.log.error({ err }, 'fetching urgent blocks failed') }).finally(() => {
      for (const r of h.stageRanges) r.destroy()
      h.stageRanges = []
      h.wanted.clear()
      h.stage = 'idle'
      if (this.closed) return
      this.fetchAll(h)
      this.consider(h)
    })
  }

  /**
   * The missing blocks of each urgent class (messages, text) an answer names; [] for both
   * when the answer covers every missing block and none is urgent; null when it covers only
   * part of them and names nothing urgent.
   */
  private plan (h: Held, from: number, end: number, runs: PriorityRun[]): number[][] | null {
    const stages: number[][] = [[], []]
    const low = Math.max(from, h.core.contiguousLength)
    const top = Math.min(end, h.core.length)
    let known = 0
    for (const r of runs) {
      const a = Math.max(r.start, low)
      const b = Math.min(r.start + r.length, top)
      if (b <= a) continue
      known += b - a
      if (r.priority === Priority.Bulk) continue
      const list = stages[r.priority] as number[]
      for (let i = a; i < b; i++) list.push(i) // blocks already here are dropped when fetched
    }
    if (stages.some(x => x.length > 0)) return stages
    return known >= top - low ? [[], []] : null
  }

  /** Each class's blocks, one class after the other (a class holds the next back for at most PRIORITY_STAGE_MS). */
  private async fetchStages (h: Held, stages: number[][]): Promise<void> {
    for (const blocks of stages) {
      if (this.closed) return
      const missing: number[] = []
      for (const i of blocks) if (!await h.core.has(i)) missing.push(i)
      if (this.closed || this.paused) return
      if (missing.length === 0) continue
      for (const i of missing) h.wanted.add(i)
      const r = h.core.download({ blocks: missing }) as Range
      h.stageRanges.push(r)
      let timer: NodeJS.Timeout | null = null
      await Promise.race([
        r.done().catch(() => {}),
        new Promise<void>(resolve => { timer = setTimeout(resolve, PRIORITY_STAGE_MS); timer.unref() })
      ])
      if (timer !== null) clearTimeout(timer)
    }
  }

  /** Serialised per log; coalesces bursts of 'download' events into one catch-up. */
  private index (h: Held): void {
    if (this.closed || this.paused) return
    if (h.indexing !== null) { h.again = true; return }
    h.indexing = (async () => {
      do {
        h.again = false
        try {
          // urgent blocks that came ahead of the contiguous part: readable now, not when the
          // bulk before them is here (those inside it are the in-order catch-up's)
          const ahead = h.arrived.splice(0).filter(seq => seq >= h.core.contiguousLength)
          for (const seq of await this.store.indexReplicatedBlocks(h.core, ahead)) h.ahead.add(seq)
          // asked without forgetting: a read-ahead asks before it indexes, and a catch-up that
          // fails in between must still skip them next time; forgotten once indexed past
          await this.store.indexReplicatedLog(h.core, { stop: () => this.closed, skip: seq => h.ahead.has(seq) })
          if (h.ahead.size > 0) {
            const indexed = await this.store.indexedLength(h.core)
            for (const seq of h.ahead) if (seq < indexed) h.ahead.delete(seq)
          }
        } catch (err) {
          this.log.error({ err, log: h.entry.log.toString('hex') }, 'indexing a replicated log failed')
          return
        }
      } while (h.again && !this.closed && !this.paused)
    })().finally(() => { h.indexing = null })
  }

  /** Called with the bytes of every block that arrives (the free-space watcher counts them). */
  downloaded: (bytes: number) => void = () => {}

  /**
   * Stops (true) or restarts (false) taking in blocks: on a full disk every download is
   * dropped (blocks already asked for may still land) and nothing is indexed; the sessions
   * stay up and our logs are still served. Resuming fetches and indexes every log again.
   */
  setPaused (paused: boolean): void {
    if (this.paused === paused || this.closed) return
    this.paused = paused
    for (const h of this.held.values()) {
      if (h.own) continue
      if (paused) {
        if (h.askTimer !== null) { clearTimeout(h.askTimer); h.askTimer = null }
        if (h.stage === 'asking') h.stage = 'idle'
        // a stage being fetched ends when its ranges are dropped (fetchStages sees done() reject)
        for (const r of h.stageRanges) r.destroy()
        h.range?.destroy()
        h.range = null
      } else {
        this.consider(h)
        this.index(h)
      }
    }
  }

  get isPaused (): boolean { return this.paused }

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
        fetching: this.paused ? 'paused (disk full)' : h.stage === 'fetching' ? 'urgent first' : h.stage === 'asking' ? 'asking peers for priorities' : 'in order',
        urgentMissing: h.wanted.size,
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
      if (h.askTimer !== null) clearTimeout(h.askTimer)
      for (const r of h.stageRanges) r.destroy()
      h.range?.destroy()
      await h.core.close().catch(() => {})
    }
  }
}
