import { promises as fs } from 'node:fs'
import path from 'node:path'
import type Hypercore from 'hypercore'
import type { Logger } from 'pino'
import type { PeerSource } from './session.js'
import { writeFileDurable } from '../store/node-file.js'
import { decodeBlock } from '../store/block-codec.js'

/** What the delivery view reads of a sync manager. */
export interface DeliverySource {
  logs: { cores: () => Array<{ key: string, own: boolean, core: Hypercore }> }
  peerSources: () => Map<string, PeerSource>
}

interface PeerRecord { source: PeerSource, wider: boolean, lastContact: number }

interface DeliveryFileV1 {
  version: 1
  peers: Record<string, PeerRecord>
  /** log (hex) -> peer (hex) -> blocks the peer holds contiguously from 0. */
  held: Record<string, Record<string, number>>
  /** own log (hex) -> [first block index, ms since epoch it was written here by] (ascending). */
  marks: Record<string, Array<[number, number]>>
}

export interface DeliverySummary {
  /** Time of the oldest own post no peer outside this site holds; null: everything has left. */
  notLeftSince: string | null
  /** Own blocks (group commits of posts) not held by any peer outside this site. */
  pendingBlocks: number
  /** Last time a peer of the wider community (swarm peer or relay) was connected; null: never. */
  lastWiderContact: string | null
  /** The two statements, in words. */
  text: string[]
}

const FILE = 'delivery.json'
const SAMPLE_MS = 1000
const SAVE_MS = 5000
/** Write marks kept per own log (thinned beyond: a block is then dated earlier, never later). */
const MAX_MARKS = 1024
/** Peers remembered (the oldest contact is forgotten first). */
const MAX_PEERS = 1000

/**
 * Same site or wider community. A peer met through the internet swarm is the wider community;
 * LAN (mDNS), static and incoming TCP peers are taken for the same site unless they identify
 * themselves as a relay (`isRelay`): a relay carries data off the site. Decided by the latest
 * contact: what a peer holds counts as delivered while its last contact was a wider one.
 */
export function isWider (source: PeerSource, relay: boolean): boolean {
  return source === 'swarm' || relay
}

/**
 * The delivery view: per log, how far each known peer holds it (its replicator's remote
 * contiguous length), kept after the peer leaves with the time of last contact, persisted in
 * `<data>/delivery.json`. From it: the oldest post written here that has not left the site,
 * and the last contact with the wider community. Samples once a second (a walk over the held
 * logs' peer lists, nothing sent) and saves every 5 s when something changed, and on close.
 */
export class DeliveryTracker {
  private readonly sync: DeliverySource
  private readonly dir: string
  private readonly log: Logger
  private readonly isRelay: (peer: string) => boolean
  private state: DeliveryFileV1 = { version: 1, peers: {}, held: {}, marks: {} }
  private timer: NodeJS.Timeout | null = null
  private dirty = false
  private lastSave = 0
  private saving: Promise<void> = Promise.resolve()
  private summaryCache: DeliverySummary = { notLeftSince: null, pendingBlocks: 0, lastWiderContact: null, text: [] }
  private sampling: Promise<void> | null = null
  private closed = false
  /** The last block dated by its posts, per own log. */
  private readonly dated = new Map<string, { index: number, at: number | null }>()
  /** Own log lengths at the previous sample. */
  private readonly seen = new Map<string, number>()

  /** The node's clock, ms: delivery times are dated by it. */
  private readonly now: () => number

  constructor (opts: { sync: DeliverySource, dataDir: string, log: Logger, isRelay?: (peer: string) => boolean, now?: () => number }) {
    this.now = opts.now ?? Date.now
    this.sync = opts.sync
    this.dir = opts.dataDir
    this.log = opts.log
    this.isRelay = opts.isRelay ?? (() => false)
  }

  async start (): Promise<void> {
    const file = path.join(this.dir, FILE)
    try {
      this.state = parseFile(JSON.parse(await fs.readFile(file, 'utf8')))
    } catch (err) {
      // the view is advisory: a bad file is reported and started afresh, never fatal
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file, err: (err as Error).message }, 'delivery view unreadable; starting a fresh one')
    }
    await this.sample()
    this.timer = setInterval(() => { void this.sample() }, SAMPLE_MS)
    this.timer.unref()
  }

  /** One sample now (also what the timer runs). */
  sample (): Promise<void> {
    if (this.sampling !== null) return this.sampling
    this.sampling = this.doSample().catch(err => {
      this.log.warn({ err: (err as Error).message }, 'delivery view sample failed')
    }).finally(() => { this.sampling = null })
    return this.sampling
  }

  private async doSample (): Promise<void> {
    if (this.closed) return
    const now = this.now()
    const sources = this.sync.peerSources()
    for (const [peer, source] of sources) {
      this.state.peers[peer] = { source, wider: isWider(source, this.isRelay(peer)), lastContact: now }
      this.dirty = true
    }
    for (const { key, own, core } of this.sync.logs.cores()) {
      let held = this.state.held[key]
      for (const p of core.peers) {
        const peer = p.remotePublicKey.toString('hex')
        if (!sources.has(peer)) continue
        const n = p.remoteContiguousLength
        held ??= this.state.held[key] = {}
        if (n > (held[peer] ?? 0)) { held[peer] = n; this.dirty = true }
      }
      if (own) this.mark(key, core.length, now)
    }
    this.forgetOldPeers()
    this.summaryCache = await this.summarise(now)
    if (this.dirty && now - this.lastSave >= SAVE_MS) {
      await this.save().then(() => { this.saveFailing = false }, err => {
        // logged once until a save works again (a full disk would otherwise log every 5 s)
        if (!this.saveFailing) this.log.warn({ err: (err as Error).message }, 'saving the delivery view failed; kept in memory and retried')
        this.saveFailing = true
      })
    }
  }

  /**
   * Records when own blocks are written here: when the log grew from `seen` to `length`, block
   * `seen` was written within the last sample period (one mark per sample at most). A block is
   * dated by the latest mark at or before it: never later than it was written. Marks below what
   * the wider community holds are dropped (summarise), the rest thinned past MAX_MARKS.
   */
  private mark (key: string, length: number, now: number): void {
    const marks = this.state.marks[key] ??= []
    const seen = this.seen.get(key)
    this.seen.set(key, length)
    if (seen === undefined) {
      // first sight of a log with blocks and no marks: those blocks are dated by their posts' created_at
      if (marks.length === 0 && length > 0) { marks.push([length, now]); this.dirty = true }
      return
    }
    if (length <= seen) return
    marks.push([seen, now])
    this.dirty = true
    if (marks.length > MAX_MARKS) this.state.marks[key] = marks.filter((_, i) => i % 2 === 0)
  }

  private forgetOldPeers (): void {
    const keys = Object.keys(this.state.peers)
    if (keys.length <= MAX_PEERS) return
    keys.sort((a, b) => (this.state.peers[a]?.lastContact ?? 0) - (this.state.peers[b]?.lastContact ?? 0))
    for (const k of keys.slice(0, keys.length - MAX_PEERS)) {
      delete this.state.peers[k]
      for (const held of Object.values(this.state.held)) delete held[k]
    }
  }

  /** Blocks of `key` held by the wider community (the most any wider peer holds). */
  private deliveredTo (key: string): number {
    let n = 0
    for (const [peer, len] of Object.entries(this.state.held[key] ?? {})) {
      if (this.state.peers[peer]?.wider === true && len > n) n = len
    }
    return n
  }

  private async summarise (now: number): Promise<DeliverySummary> {
    let since: number | null = null
    let pending = 0
    for (const { key, own, core } of this.sync.logs.cores()) {
      if (!own) continue
      const delivered = this.deliveredTo(key)
      const marks = this.state.marks[key]
      // the latest mark at or below what has left is all that dating the rest needs
      while (marks !== undefined && marks.length > 1 && (marks[1] as [number, number])[0] <= delivered) { marks.shift(); this.dirty = true }
      if (delivered >= core.length) continue
      pending += core.length - delivered
      const t = await this.writtenAt(key, core, delivered)
      if (t !== null && (since === null || t < since)) since = t
    }
    let wider: number | null = null
    for (const p of Object.values(this.state.peers)) if (p.wider && (wider === null || p.lastContact > wider)) wider = p.lastContact
    const text = [
      since === null ? 'every post written here has left this site' : `posts written here since ${clock(since)} (${ago(now - since)} ago) have not left this site yet`,
      wider === null ? 'no contact with the wider community yet' : `last contact with the wider community: ${clock(wider)} (${ago(now - wider)} ago)`
    ]
    return { notLeftSince: since === null ? null : new Date(since).toISOString(), pendingBlocks: pending, lastWiderContact: wider === null ? null : new Date(wider).toISOString(), text }
  }

  /**
   * When block `index` of an own log was written here: the latest mark at or before it; for
   * blocks older than the first mark (written before this view existed), the posts' created_at.
   */
  private async writtenAt (key: string, core: Hypercore, index: number): Promise<number | null> {
    const marks = this.state.marks[key] ?? []
    let at: number | null = null
    for (const [start, t] of marks) { if (start <= index) at = t; else break }
    if (at !== null) return at
    // decoding a block is the one costly step: once per (log, block), not once a second
    const cached = this.dated.get(key)
    if (cached?.index === index) return cached.at
    const found = await this.postTime(core, index)
    const result = found ?? marks[0]?.[1] ?? null
    this.dated.set(key, { index, at: result })
    return result
  }

  /** The earliest created_at (ms) of the posts in a local block, null when none or not here. */
  private async postTime (core: Hypercore, index: number): Promise<number | null> {
    const block = await core.get(index, { wait: false })
    if (block === null) return null
    let min: number | null = null
    for (const l of decodeBlock(block)) {
      const c = 'value' in l ? (l.value as { created_at?: unknown } | null)?.created_at : undefined
      if (typeof c === 'number' && (min === null || c * 1000 < min)) min = c * 1000
    }
    return min
  }

  /** GET /api/sync `delivery`: the summary, then per log what each known peer holds. */
  status (): Record<string, unknown> {
    const cores = new Map(this.sync.logs.cores().map(c => [c.key, c]))
    return {
      ...this.summaryCache,
      peers: Object.entries(this.state.peers).map(([key, p]) => ({ key, source: p.source, wider: p.wider, lastContact: new Date(p.lastContact).toISOString() })),
      logs: Object.entries(this.state.held).filter(([key]) => cores.has(key)).map(([key, held]) => ({
        key,
        own: cores.get(key)?.own ?? false,
        length: cores.get(key)?.core.length ?? 0,
        peers: Object.entries(held).map(([peer, length]) => ({ key: peer, length }))
      }))
    }
  }

  get summary (): DeliverySummary { return this.summaryCache }

  private saveFailing = false

  private async save (): Promise<void> {
    this.dirty = false
    this.lastSave = Date.now()
    const data = JSON.stringify(this.state) + '\n'
    const next = this.saving.then(async () => { await writeFileDurable(path.join(this.dir, FILE), data) })
    // not saved (e.g. the disk is full): the view stays in memory and the next sample saves it again
    next.catch(() => { this.dirty = true })
    this.saving = next.catch(() => {})
    await next
  }

  /** A last sample, saved; then no timer. */
  async close (): Promise<void> {
    if (this.closed) return
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null }
    await this.sample()
    this.closed = true
    await this.save().catch(err => { this.log.error({ err }, 'saving the delivery view failed') })
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const SOURCES = new Set<PeerSource>(['static', 'lan', 'swarm', 'incoming'])

/** delivery.json, keeping only well-formed entries (a hand-edited or damaged file loses only those). */
function parseFile (v: unknown): DeliveryFileV1 {
  if (!isRecord(v) || v.version !== 1 || !isRecord(v.peers) || !isRecord(v.held) || !isRecord(v.marks)) throw new Error('unknown format')
  const out: DeliveryFileV1 = { version: 1, peers: {}, held: {}, marks: {} }
  for (const [k, p] of Object.entries(v.peers)) {
    if (isRecord(p) && SOURCES.has(p.source as PeerSource) && typeof p.wider === 'boolean' && isCount(p.lastContact)) out.peers[k] = { source: p.source as PeerSource, wider: p.wider, lastContact: p.lastContact }
  }
  for (const [log, held] of Object.entries(v.held)) {
    if (!isRecord(held)) continue
    const h: Record<string, number> = {}
    for (const [peer, n] of Object.entries(held)) if (isCount(n)) h[peer] = n
    out.held[log] = h
  }
  for (const [log, marks] of Object.entries(v.marks)) {
    if (!Array.isArray(marks)) continue
    const ok = marks.filter((m): m is [number, number] => Array.isArray(m) && m.length === 2 && isCount(m[0]) && isCount(m[1]))
    out.marks[log] = ok.sort((a, b) => a[0] - b[0])
  }
  return out
}

/** A time as people read it: `2026-11-21 14:02 UTC`. */
function clock (ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

function ago (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 90) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 90) return `${m} min`
  const h = Math.round(m / 60)
  if (h < 48) return `${h} h`
  return `${Math.round(h / 24)} d`
}
