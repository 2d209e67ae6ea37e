import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { writeFileDurable } from '../store/node-file.js'

export interface PortalClientsOptions {
  /** The JSON file in the data directory. */
  file: string
  /** How long a client stays accepted, in ms. */
  ttlMs: number
  /** Most clients remembered; the ones closest to expiry go first. */
  maxClients?: number
  log: Logger
  now?: () => number
}

const FORMAT = 1
export const DEFAULT_MAX_CLIENTS = 10_000

/**
 * Who tapped Continue, keyed `mac:<mac>` or `ip:<ip>`, with an expiry time. Persisted as a
 * small JSON file (write temp, fsync, rename, fsync dir) so a restart or a power cut keeps
 * phones on the Wi-Fi. A damaged file is set aside and the node starts with nobody accepted.
 */
export class PortalClients {
  private readonly opts: Required<PortalClientsOptions>
  private readonly clients = new Map<string, number>()
  private chain: Promise<void> = Promise.resolve()
  private queued: Promise<void> | null = null

  constructor (opts: PortalClientsOptions) {
    this.opts = { maxClients: DEFAULT_MAX_CLIENTS, now: Date.now, ...opts }
  }

  /** Clients accepted now (expired ones are dropped first). */
  get size (): number {
    const now = this.opts.now()
    for (const [k, exp] of this.clients) if (exp <= now) this.clients.delete(k)
    return this.clients.size
  }

  async open (): Promise<void> {
    // a temp file left by a power cut mid-write: the renamed file is the truth
    const dir = path.dirname(this.opts.file)
    const stale = `${path.basename(this.opts.file)}.tmp`
    for (const name of await fs.readdir(dir).catch(() => [])) {
      if (name.startsWith(stale)) await fs.rm(path.join(dir, name), { force: true })
    }
    let text: string
    try {
      text = await fs.readFile(this.opts.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const now = this.opts.now()
    try {
      const doc = JSON.parse(text) as { v?: unknown, clients?: unknown }
      if (doc.v !== FORMAT || !Array.isArray(doc.clients)) throw new Error('unknown format')
      for (const entry of doc.clients as unknown[]) {
        if (!Array.isArray(entry)) continue
        const [key, exp] = entry as unknown[]
        if (typeof key === 'string' && key.length <= 100 && typeof exp === 'number' && exp > now) this.clients.set(key, exp)
      }
      this.trim()
    } catch (err) {
      const aside = `${this.opts.file}.corrupt-${now}`
      this.opts.log.warn({ err, file: this.opts.file, movedTo: aside }, 'portal client file unreadable; starting with no accepted clients')
      await fs.rename(this.opts.file, aside).catch(() => {})
    }
  }

  /** When the first of `keys` still accepted expires (ms since epoch), or null. */
  expiresAt (keys: string[]): number | null {
    const now = this.opts.now()
    for (const k of keys) {
      const exp = this.clients.get(k)
      if (exp === undefined) continue
      if (exp > now) return exp
      this.clients.delete(k)
    }
    return null
  }

  /** Accepts (or renews) a client; resolves once that is on disk. */
  async accept (key: string): Promise<number> {
    const exp = this.opts.now() + this.opts.ttlMs
    // re-insert so the map's order stays oldest-first for trimming
    this.clients.delete(key)
    this.clients.set(key, exp)
    this.trim()
    await this.persist()
    return exp
  }

  /** Waits for writes in flight. */
  async flush (): Promise<void> {
    await this.chain
  }

  private trim (): void {
    const now = this.opts.now()
    for (const [k, exp] of this.clients) if (exp <= now) this.clients.delete(k)
    if (this.clients.size <= this.opts.maxClients) return
    const byExpiry = [...this.clients].sort((a, b) => a[1] - b[1])
    for (const [k] of byExpiry.slice(0, this.clients.size - this.opts.maxClients)) this.clients.delete(k)
  }

  /** Writes coalesce: a write not yet started will include every change made before it starts. */
  private async persist (): Promise<void> {
    if (this.queued !== null) return await this.queued.catch(() => {})
    const p = this.chain.then(async () => {
      this.queued = null
      await this.write()
    })
    this.queued = p
    this.chain = p.catch(err => {
      this.opts.log.error({ err, file: this.opts.file }, 'cannot save portal clients')
    })
    await this.chain
  }

  private async write (): Promise<void> {
    this.trim()
    await writeFileDurable(this.opts.file, JSON.stringify({ v: FORMAT, clients: [...this.clients] }) + '\n', 0o600)
  }
}
