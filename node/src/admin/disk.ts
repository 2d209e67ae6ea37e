import { promises as fs } from 'node:fs'
import path from 'node:path'

export interface DiskUsage {
  /** Bytes the data directory takes on disk (allocated blocks, as du counts them). */
  used: number
  /** Bytes free for the node on that file system, and its size; null when statfs failed. */
  free: number | null
  total: number | null
  /** The walk stopped at MAX_ENTRIES: `used` is a lower bound. */
  partial: boolean
  at: number
}

const MAX_ENTRIES = 100_000
const CACHE_MS = 30_000

/** The data directory's size on disk and the free space beside it, at most once per 30 s. */
export class DiskProbe {
  private last: DiskUsage | null = null
  private running: Promise<DiskUsage> | null = null

  constructor (private readonly dir: string, private readonly now: () => number = Date.now) {}

  async read (): Promise<DiskUsage> {
    if (this.last !== null && this.now() - this.last.at < CACHE_MS) return this.last
    this.running ??= this.measure().finally(() => { this.running = null })
    this.last = await this.running
    return this.last
  }

  private async measure (): Promise<DiskUsage> {
    let used = 0
    let entries = 0
    const stack = [this.dir]
    while (stack.length > 0 && entries < MAX_ENTRIES) {
      const dir = stack.pop() as string
      let names: string[]
      try { names = await fs.readdir(dir) } catch { continue }
      for (const name of names) {
        if (++entries > MAX_ENTRIES) break
        const p = path.join(dir, name)
        try {
          const st = await fs.lstat(p)
          used += st.blocks * 512
          if (st.isDirectory()) stack.push(p)
        } catch {}
      }
    }
    let free: number | null = null
    let total: number | null = null
    try {
      const s = await fs.statfs(this.dir)
      free = s.bavail * s.bsize
      total = s.blocks * s.bsize
    } catch {}
    return { used, free, total, partial: entries > MAX_ENTRIES, at: this.now() }
  }
}

/** 1536 -> "1.5 KiB". */
export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u] as string}`
}
