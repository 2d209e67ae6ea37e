import { promises as fs } from 'node:fs'
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'

/** How often free space is read when nothing is written (one fs.statfs: ~40 µs through the thread pool, measured). */
export const CHECK_MS = 2000
/** Bytes written since the last reading after which free space is read again at once. */
const CHECK_AFTER_BYTES = 1024 * 1024
/** Once below the reserve, space counts as back only this far above it (no flapping). */
const HYSTERESIS_MAX = 4 * 1024 * 1024
/** After a write ran out of space, the storage is reopened only with at least this much free. */
const REOPEN_MIN_FREE = 2 * 1024 * 1024

export interface DiskState {
  /** Bytes free for the node on the data directory's file system; null before the first reading or when statfs fails. */
  free: number | null
  total: number | null
  /** The free-space reserve (--min-free-disk), bytes. */
  reserve: number
  /** Below the reserve, or a write failed for want of space: the node takes nothing new in. */
  full: boolean
  /** A write failed with "no space left" (the storage must be reopened once space is back). */
  writeFailed: string | null
  /** When free space was last read. */
  checkedAt: string | null
}

/** "No space left on device", as node's fs or RocksDB (through rocksdb-native) reports it. */
export function isNoSpace (err: unknown): boolean {
  for (let e = err; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const x = e as { code?: unknown, message?: unknown }
    if (x.code === 'ENOSPC' || x.code === 'EDQUOT') return true
    if (typeof x.message === 'string' && /no space left on device|disk quota exceeded/i.test(x.message)) return true
  }
  return false
}

export interface DiskSpaceOptions {
  dir: string
  /** Bytes that must stay free; 0 = no reserve (writes run until the file system refuses them). */
  reserve: number
  log: Logger
  checkMs?: number
  /** Injected for tests of the policy; fs.statfs otherwise. */
  statfs?: (dir: string) => Promise<{ bavail: number, bsize: number, blocks: number }>
}

/**
 * Watches the free space of the data directory's file system against a reserve. Below it the
 * node refuses new events and pauses replication downloads ('change', true); once free space
 * is back above the reserve (plus a small margin) both resume ('change', false). A write that
 * fails with ENOSPC anyway (no reserve, or another process filled the disk between readings)
 * counts as full until space is back, then 'reopen' asks for the storage to be reopened:
 * RocksDB keeps refusing writes after such an error until it is reopened.
 */
export class DiskSpace extends EventEmitter {
  readonly dir: string
  readonly reserve: number
  private readonly log: Logger
  private readonly checkMs: number
  private readonly statfs: NonNullable<DiskSpaceOptions['statfs']>
  private free: number | null = null
  private total: number | null = null
  private checkedAt = 0
  private below = false
  private failed: string | null = null
  private written = 0
  private checking: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private statfsFailed = false

  constructor (opts: DiskSpaceOptions) {
    super()
    this.dir = opts.dir
    this.reserve = opts.reserve
    this.log = opts.log
    this.checkMs = opts.checkMs ?? CHECK_MS
    this.statfs = opts.statfs ?? (async d => await fs.statfs(d))
  }

  /** First reading, then one every checkMs (an unref'd timer: it never keeps the process up). */
  async start (): Promise<void> {
    await this.check()
    this.timer = setInterval(() => { void this.check() }, this.checkMs)
    this.timer.unref()
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Nothing new may be written: below the reserve, or a write ran out of space. */
  get full (): boolean { return this.below || this.failed !== null }

  /** A caller wrote about this many bytes: read free space again once enough were written. */
  wrote (bytes: number): void {
    this.written += bytes
    if (this.written >= CHECK_AFTER_BYTES) void this.check()
  }

  /** A write failed for want of space: full from now on, until a reading finds space back. */
  writeFailed (err: unknown): void {
    if (this.failed !== null) return
    const message = err instanceof Error ? err.message : String(err)
    this.failed = message
    this.log.warn({ err: message, free: this.free, reserve: this.reserve }, 'disk full: a write failed for want of space; new events are refused and replication is paused until space is freed')
    this.emit('change', true)
    void this.check()
  }

  /** Reads free space now (concurrent callers share one reading). */
  check (): Promise<void> {
    this.checking ??= this.read().finally(() => { this.checking = null })
    return this.checking
  }

  private async read (): Promise<void> {
    this.written = 0
    let s: { bavail: number, bsize: number, blocks: number }
    try {
      s = await this.statfs(this.dir)
    } catch (err) {
      if (!this.statfsFailed) this.log.warn({ err, dir: this.dir }, 'cannot read the free space of the data directory')
      this.statfsFailed = true
      return
    }
    this.statfsFailed = false
    this.free = s.bavail * s.bsize
    this.total = s.blocks * s.bsize
    this.checkedAt = Date.now()
    const wasFull = this.full
    if (this.free < this.reserve) this.below = true
    else if (this.free >= this.reserve + Math.min(HYSTERESIS_MAX, this.reserve / 8)) this.below = false
    if (this.failed !== null && !this.below && this.free >= REOPEN_MIN_FREE) {
      const failed = this.failed
      this.failed = null
      // RocksDB stays in its error state after ENOSPC: the storage is reopened, then takes writes again
      this.emit('reopen', failed)
    }
    if (wasFull === this.full) return
    if (this.full) this.log.warn({ free: this.free, reserve: this.reserve }, 'disk full: free space is below the reserve; new events are refused and replication is paused until space is freed')
    else this.log.warn({ free: this.free, reserve: this.reserve }, 'disk space is back: taking new events and replicating again')
    this.emit('change', this.full)
  }

  status (): DiskState {
    return {
      free: this.free,
      total: this.total,
      reserve: this.reserve,
      full: this.full,
      writeFailed: this.failed,
      checkedAt: this.checkedAt === 0 ? null : new Date(this.checkedAt).toISOString()
    }
  }
}
