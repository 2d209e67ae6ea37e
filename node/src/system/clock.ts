import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { writeFileDurable } from '../store/node-file.js'

/**
 * The node's idea of the time, better than the system clock of a Pi that has no real-time clock.
 *
 * A hotspot boots offline with whatever fake-hwclock saved at its last shutdown (hours or days
 * behind), or at 1970. The node's time is the latest of:
 * - the system clock (so when NTP or an operator corrects it, the node follows at once);
 * - the floor: the newest time this node has known, saved durably in the data dir now and then
 *   and at shutdown, counted forward from boot with the monotonic clock;
 * - a step taken on trustworthy evidence from sync peers (below), counted forward likewise;
 * and it never runs backward (a time it served is never served again as later).
 *
 * Trust model. Every sync peer sends its clock once when its session opens. An admitted node is
 * trusted to relay the community's data, not to set our time: one hostile (or just wrong) peer
 * must not push us days ahead, which would date every post of this site in the future and make
 * other nodes refuse them. So peers only ever move us forward, and only when:
 * - two or more peers agree (their clocks within AGREE_MS of each other): we step to the lower of
 *   the highest agreeing pair, unbounded (a Pi that was off for weeks catches up);
 * - or one peer says it is online (it has an uplink, so NTP): we step to its time, but never more
 *   than MAX_LONE_STEP_MS past what we knew without peers (system clock, floor).
 * A peer clock outside [MIN_PLAUSIBLE_MS, MAX_PLAUSIBLE_MS] is ignored altogether.
 *
 * Phones tell their clocks too (the web app sends one with its first request), and most phones
 * have the network's time. But anyone on the Wi-Fi is a phone, and one person can be many: phones
 * are reported (`behindPhonesBy`, the median of the last hour's), never followed. Peers that are
 * behind us never move anything, and with an uplink of our own (NTP) no peer moves us. Whatever peers say is reported (`behindPeersBy`), and a skew
 * beyond WARN_SKEW_MS is logged once.
 *
 * When the system clock is set while running (NTP after an uplink appears, or the operator), a
 * peer step is dropped: the system clock now knows better. The node does not run backward: if the
 * step was ahead of the corrected system clock, the node's time waits for it.
 */

/** Two peer clocks this close agree. */
export const AGREE_MS = 120_000
/** Smaller differences are the normal spread of clocks: no step. */
export const MIN_STEP_MS = 60_000
/** The most one online peer alone can move us past what we knew without peers. */
export const MAX_LONE_STEP_MS = 24 * 3600_000
/** A skew between us and our peers beyond this is logged and shown to the operator. */
export const WARN_SKEW_MS = 5 * 60_000
/** 2024-01-01: no honest clock of a running node is earlier (this software did not exist). */
export const MIN_PLAUSIBLE_MS = Date.UTC(2024, 0, 1)
/** 2200-01-01: anything later is garbage. */
export const MAX_PLAUSIBLE_MS = Date.UTC(2200, 0, 1)
/** How often the floor is saved (and on shutdown, and on every step). */
const SAVE_EVERY_MS = 10 * 60_000
/** A jump of the system clock against the monotonic one beyond this means it was set. */
const SYSTEM_STEP_MS = 2_000
/** Peers remembered for skew reports and agreement (most recent kept). */
const MAX_PEERS = 256
/** Phones remembered (most recent kept), and for how long their word counts. */
const MAX_PHONES = 64
const PHONE_TTL_MS = 3600_000

export const CLOCK_FILE = 'clock.json'

/** Where the time comes from; 'held': the system clock was set back, the node waits for it. */
export type ClockSource = 'system' | 'floor' | 'peers' | 'held'

/** A time known at a monotonic instant; it runs forward with the monotonic clock. */
interface Anchor { at: number, mono: number }

interface PeerClock extends Anchor { online: boolean }

export interface ClockStatus {
  now: string
  /** The node's time minus the system clock's, in seconds (0: the system clock is used as is). */
  offsetSeconds: number
  source: ClockSource
  /** How far the peers' clocks (median) are ahead of ours, in seconds; null with no peer heard. */
  behindPeersBy: number | null
  peers: number
  /** The same for the clocks of phones heard in the last hour (reported only). */
  behindPhonesBy: number | null
  phones: number
  floor: string | null
}

export interface NodeClockOptions {
  /** Where the floor is kept; null: nowhere (tests, tools). */
  dataDir: string | null
  log: Logger
  /** The system clock, ms (Date.now). */
  systemNow?: () => number
  /** A monotonic clock, ms (performance.now). */
  monoNow?: () => number
}

export class NodeClock {
  private readonly log: Logger
  private readonly file: string | null
  private readonly system: () => number
  private readonly mono: () => number
  private floor: Anchor | null = null
  private floorSaved: number | null = null
  private step: Anchor | null = null
  private last = 0
  private readonly peers = new Map<string, PeerClock>()
  private readonly phones = new Map<string, Anchor>()
  private warned = false
  private systemDelta: number
  private timer: NodeJS.Timeout | null = null
  private saving: Promise<void> = Promise.resolve()
  /** Whether this node has an uplink right now (set once the uplink monitor runs). */
  online: () => boolean = () => false

  private constructor (opts: NodeClockOptions) {
    this.log = opts.log
    this.file = opts.dataDir === null ? null : path.join(opts.dataDir, CLOCK_FILE)
    this.system = opts.systemNow ?? Date.now
    this.mono = opts.monoNow ?? (() => performance.now())
    this.systemDelta = this.system() - this.mono()
  }

  /** Reads the floor (a missing or unreadable file is no floor) and starts saving it now and then. */
  static async open (opts: NodeClockOptions): Promise<NodeClock> {
    const clock = new NodeClock(opts)
    if (clock.file !== null && opts.dataDir !== null) {
      await fs.mkdir(opts.dataDir, { recursive: true })
      const floor = await readFloor(clock.file, opts.log)
      if (floor !== null) {
        clock.floor = { at: floor, mono: clock.mono() }
        clock.floorSaved = floor
        const behind = floor - clock.system()
        if (behind > MIN_STEP_MS) opts.log.warn({ system: new Date(clock.system()).toISOString(), floor: new Date(floor).toISOString(), behindSeconds: Math.round(behind / 1000) }, 'the system clock is behind the last time this node knew: using that time instead (no real-time clock, or a wrong one)')
      }
      await clock.saveQuietly()
      clock.timer = setInterval(() => { void clock.saveQuietly() }, SAVE_EVERY_MS)
      clock.timer.unref()
    }
    return clock
  }

  private run (a: Anchor | null): number {
    return a === null ? -Infinity : a.at + (this.mono() - a.mono)
  }

  /** The node's time, ms since the epoch: never earlier than a time it gave before. */
  now (): number {
    const sys = this.system()
    this.noticeSystemStep(sys)
    const t = Math.floor(Math.max(sys, this.run(this.floor), this.run(this.step), this.last))
    this.last = t
    return t
  }

  nowSeconds (): number {
    return Math.floor(this.now() / 1000)
  }

  /** The system clock was set (NTP, the operator): a peer step gives way to it. */
  private noticeSystemStep (sys: number): void {
    const delta = sys - this.mono()
    const jump = delta - this.systemDelta
    this.systemDelta = delta
    if (Math.abs(jump) <= SYSTEM_STEP_MS) return
    this.log.info({ stepSeconds: Math.round(jump / 1000), system: new Date(sys).toISOString() }, 'the system clock was set: following it (never backward)')
    this.step = null
  }

  /** Our time without what peers told us. */
  private base (): number {
    return Math.max(this.system(), this.run(this.floor))
  }

  get source (): ClockSource {
    const t = this.now()
    const sys = this.system()
    if (t - sys < 1000) return 'system'
    const step = this.run(this.step)
    const floor = this.run(this.floor)
    if (t - Math.max(step, floor) >= 1000) return 'held'
    return step >= floor ? 'peers' : 'floor'
  }

  /**
   * A peer's clock, as it sent it on opening its session (ms), and whether it has an uplink.
   * Ignored when implausible; may step our clock forward (see the trust model above).
   */
  peerClock (peer: string, remoteMs: number, online: boolean): void {
    if (!Number.isSafeInteger(remoteMs) || remoteMs < MIN_PLAUSIBLE_MS || remoteMs > MAX_PLAUSIBLE_MS) {
      this.log.debug({ peer, remoteMs }, 'ignoring an implausible peer clock')
      return
    }
    this.peers.delete(peer)
    if (this.peers.size >= MAX_PEERS) this.peers.delete(this.peers.keys().next().value as string)
    this.peers.set(peer, { at: remoteMs, mono: this.mono(), online })
    this.consider()
    this.checkSkew()
  }

  /** A phone's clock (ms), by its address: reported, never followed (see the trust model). */
  phoneClock (address: string, ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < MIN_PLAUSIBLE_MS || ms > MAX_PLAUSIBLE_MS) return
    this.phones.delete(address)
    if (this.phones.size >= MAX_PHONES) this.phones.delete(this.phones.keys().next().value as string)
    this.phones.set(address, { at: ms, mono: this.mono() })
  }

  peerGone (peer: string): void {
    this.peers.delete(peer)
  }

  /** Steps forward when peers give trustworthy evidence that we are behind. */
  private consider (): void {
    // with an uplink of our own the system clock has NTP: peers do not move it
    if (this.online()) return
    const now = this.now()
    const times = [...this.peers.values()].map(p => ({ t: this.run(p), online: p.online })).sort((a, b) => b.t - a.t)
    let target = -Infinity
    let why = ''
    for (let i = 0; i + 1 < times.length; i++) {
      const a = times[i] as { t: number }
      const b = times[i + 1] as { t: number }
      if (a.t - b.t <= AGREE_MS) { target = b.t; why = 'peers agree'; break }
    }
    const lone = times.find(p => p.online)
    if (lone !== undefined) {
      const bounded = Math.min(lone.t, this.base() + MAX_LONE_STEP_MS)
      if (bounded > target) { target = bounded; why = lone.t > bounded ? 'an online peer (step bounded)' : 'an online peer' }
    }
    if (target - now < MIN_STEP_MS) return
    this.step = { at: target, mono: this.mono() }
    this.log.warn({ stepSeconds: Math.round((target - now) / 1000), now: new Date(target).toISOString(), why }, 'clock stepped forward by what sync peers say')
    void this.saveQuietly()
  }

  /** The median of the peers' clocks minus ours, ms; null with no peer. */
  private peerSkew (): number | null {
    return this.medianSkew([...this.peers.values()])
  }

  /** The median of these clocks minus ours, ms; null with none. */
  private medianSkew (clocks: Anchor[]): number | null {
    if (clocks.length === 0) return null
    const now = this.now()
    const d = clocks.map(p => this.run(p) - now).sort((a, b) => a - b)
    const mid = d.length >> 1
    return d.length % 2 === 1 ? d[mid] as number : ((d[mid - 1] as number) + (d[mid] as number)) / 2
  }

  private checkSkew (): void {
    const skew = this.peerSkew()
    if (skew === null || skew <= WARN_SKEW_MS) { this.warned = false; return }
    if (this.warned) return
    this.warned = true
    this.log.warn({ behindPeersBySeconds: Math.round(skew / 1000), peers: this.peers.size, now: new Date(this.now()).toISOString() }, 'this node\'s clock looks behind its sync peers (no real-time clock? set the time, or connect an uplink or a peer that has one)')
  }

  /** Saves the floor (the time now) durably; saves are serialised. */
  async save (): Promise<void> {
    const file = this.file
    if (file === null) return
    const t = this.now()
    const next = this.saving.then(async () => {
      if (this.floorSaved !== null && this.floorSaved >= t) return
      await writeFileDurable(file, JSON.stringify({ version: 1, floor: new Date(t).toISOString() }) + '\n')
      this.floorSaved = t
    })
    this.saving = next.catch(() => {})
    await next
  }

  /** save(), a failure reported and never thrown: the floor is advisory. */
  private async saveQuietly (): Promise<void> {
    await this.save().catch(err => { this.log.warn({ err }, 'saving the clock floor failed') })
  }

  status (): ClockStatus {
    const now = this.now()
    const skew = this.peerSkew()
    const mono = this.mono()
    for (const [k, p] of this.phones) if (mono - p.mono > PHONE_TTL_MS) this.phones.delete(k)
    const phones = this.medianSkew([...this.phones.values()])
    return {
      now: new Date(now).toISOString(),
      offsetSeconds: Math.round((now - this.system()) / 1000),
      source: this.source,
      behindPeersBy: skew === null ? null : Math.max(0, Math.round(skew / 1000)),
      peers: this.peers.size,
      behindPhonesBy: phones === null ? null : Math.max(0, Math.round(phones / 1000)),
      phones: this.phones.size,
      floor: this.floorSaved === null ? null : new Date(this.floorSaved).toISOString()
    }
  }

  /** Saves the floor a last time; no timer after. */
  async close (): Promise<void> {
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null }
    await this.saveQuietly()
  }
}

/** The saved floor, ms; null when there is none or it is unreadable (reported, never fatal). */
async function readFloor (file: string, log: Logger): Promise<number | null> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as { version?: unknown, floor?: unknown }
    const t = typeof v.floor === 'string' ? Date.parse(v.floor) : NaN
    if (v.version !== 1 || !Number.isFinite(t) || t < MIN_PLAUSIBLE_MS || t > MAX_PLAUSIBLE_MS) throw new Error('unknown format')
    return t
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, err: (err as Error).message }, 'clock floor unreadable; starting without one')
    return null
  }
}
