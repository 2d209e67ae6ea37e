/** Milliseconds, monotonic. Swappable in tests. */
export type Clock = () => number

export const monotonic: Clock = () => performance.now()

/** A token bucket: `rate` tokens per second, holding at most `burst`. Starts full. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (private readonly rate: number, private readonly burst: number, private readonly now: Clock = monotonic) {
    this.tokens = burst
    this.last = now()
  }

  private refill (): void {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate)
    this.last = t
  }

  /** Takes one token; false when the bucket is empty. */
  take (): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** True when the bucket has refilled completely (it then carries no state worth keeping). */
  full (): boolean {
    this.refill()
    return this.tokens >= this.burst
  }
}

/** Per-IP state: open connections and an EVENT bucket. Entries are dropped once idle. */
export class IpTable {
  private readonly entries = new Map<string, { connections: number, events: TokenBucket }>()

  constructor (
    private readonly maxConnections: number,
    private readonly eventsPerMinute: number,
    private readonly now: Clock = monotonic
  ) {}

  private entry (ip: string): { connections: number, events: TokenBucket } {
    let e = this.entries.get(ip)
    if (e === undefined) {
      e = { connections: 0, events: new TokenBucket(this.eventsPerMinute / 60, this.eventsPerMinute, this.now) }
      this.entries.set(ip, e)
    }
    return e
  }

  /** Counts a new connection; false (and nothing counted) when the IP is at its limit. */
  connect (ip: string): boolean {
    const e = this.entry(ip)
    if (e.connections >= this.maxConnections) return false
    e.connections++
    return true
  }

  disconnect (ip: string): void {
    const e = this.entries.get(ip)
    if (e !== undefined && e.connections > 0) e.connections--
  }

  /** Takes one EVENT token for the IP. */
  takeEvent (ip: string): boolean {
    return this.entry(ip).events.take()
  }

  connections (ip: string): number {
    return this.entries.get(ip)?.connections ?? 0
  }

  /** Forgets IPs with no connection and a full bucket, so the table stays small. */
  sweep (): void {
    for (const [ip, e] of this.entries) {
      if (e.connections === 0 && e.events.full()) this.entries.delete(ip)
    }
  }

  get size (): number {
    return this.entries.size
  }
}
