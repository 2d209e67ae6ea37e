import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { promises as fs } from 'node:fs'

/** `scrypt$N$r$p$<salt base64>$<hash base64>`, as provisioning/lib/hash-password.mjs writes it. */
export interface PasswordHash { N: number, r: number, p: number, salt: Buffer, hash: Buffer }

const HASH_LINE = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/
const MAX_FILE_BYTES = 4096
/** Longest password checked (a form field; scrypt of a huge one is wasted work). */
export const MAX_PASSWORD_LENGTH = 1024

export function parsePasswordHash (line: string): PasswordHash | string {
  const m = HASH_LINE.exec(line.trim())
  if (m === null) return 'not a line of the form scrypt$N$r$p$salt$hash'
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  // a power of two up to 2^20 (1 GiB of memory at r = 8 would already be far too much for a Pi)
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0) return 'N must be a power of two from 2 to 2^20'
  if (r < 1 || r > 32 || p < 1 || p > 16 || 128 * N * r > 256 * 1024 * 1024) return 'r or p out of range'
  const salt = Buffer.from(m[4] as string, 'base64')
  const hash = Buffer.from(m[5] as string, 'base64')
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return 'salt or hash too short'
  return { N, r, p, salt, hash }
}

/** The hash file's content, or why it cannot be used. */
export async function readPasswordFile (file: string): Promise<PasswordHash | string> {
  let text: string
  try {
    const fh = await fs.open(file, 'r')
    try {
      const buf = Buffer.alloc(MAX_FILE_BYTES + 1)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      if (bytesRead > MAX_FILE_BYTES) return `larger than ${MAX_FILE_BYTES} bytes`
      text = buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await fh.close()
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'the node may not read it' : `unreadable (${code ?? 'error'})`
  }
  return parsePasswordHash(text)
}

/** Password check with scrypt, compared in constant time. */
export async function verifyPassword (password: string, h: PasswordHash): Promise<boolean> {
  const got = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 }, (err, key) => {
      if (err !== null) reject(err)
      else resolve(key)
    })
  })
  return timingSafeEqual(got, h.hash)
}

/**
 * Failed logins per client address, over a sliding window: after `maxFails` failures within
 * `windowMs` the address is refused (the password is not even checked) until the oldest of
 * them is `windowMs` old. So at most `maxFails` guesses per window per address.
 */
export class LoginLimiter {
  private readonly fails = new Map<string, number[]>()

  constructor (readonly maxFails = 5, readonly windowMs = 15 * 60_000, private readonly now: () => number = Date.now, private readonly maxAddresses = 10_000) {}

  /** Seconds until this address may try again; 0 = it may now. */
  retryAfter (ip: string): number {
    const list = this.recent(ip)
    if (list.length < this.maxFails) return 0
    return Math.max(1, Math.ceil(((list[0] as number) + this.windowMs - this.now()) / 1000))
  }

  /** Records a failure; returns the tries left before the address must wait. */
  fail (ip: string): number {
    const list = this.recent(ip)
    list.push(this.now())
    this.fails.set(ip, list.slice(-this.maxFails))
    if (this.fails.size > this.maxAddresses) this.sweep()
    return Math.max(0, this.maxFails - list.length)
  }

  succeed (ip: string): void { this.fails.delete(ip) }

  private recent (ip: string): number[] {
    const now = this.now()
    return (this.fails.get(ip) ?? []).filter(t => now - t < this.windowMs)
  }

  private sweep (): void {
    for (const ip of this.fails.keys()) if (this.recent(ip).length === 0) this.fails.delete(ip)
    // still too many (a flood of addresses): forget the oldest
    for (const ip of this.fails.keys()) {
      if (this.fails.size <= this.maxAddresses) break
      this.fails.delete(ip)
    }
  }
}

export interface Session {
  /** Shown in logs and on the page; not the cookie's secret. */
  id: string
  csrf: string
  ip: string
  created: number
  lastSeen: number
  /** One message for the next page (after a redirect). */
  flash: string | null
}

/**
 * Admin sessions, in memory (a restart logs everyone out). The cookie holds a random token;
 * only its hash is kept, so the table itself cannot be replayed.
 */
export class Sessions {
  private readonly byHash = new Map<string, Session>()

  constructor (readonly idleMs = 2 * 3600_000, readonly maxAgeMs = 12 * 3600_000, private readonly now: () => number = Date.now, private readonly max = 32) {}

  create (ip: string): { token: string, session: Session } {
    this.sweep()
    while (this.byHash.size >= this.max) this.byHash.delete(this.byHash.keys().next().value as string)
    const token = randomBytes(32).toString('base64url')
    const t = this.now()
    const session: Session = { id: randomBytes(6).toString('hex'), csrf: randomBytes(32).toString('base64url'), ip, created: t, lastSeen: t, flash: null }
    this.byHash.set(tokenHash(token), session)
    return { token, session }
  }

  /** The live session for a cookie value, renewed; null when unknown or expired. */
  get (token: string | undefined): Session | null {
    if (token === undefined || token.length === 0 || token.length > 100) return null
    const key = tokenHash(token)
    const s = this.byHash.get(key)
    if (s === undefined) return null
    const t = this.now()
    if (t - s.lastSeen > this.idleMs || t - s.created > this.maxAgeMs) {
      this.byHash.delete(key)
      return null
    }
    s.lastSeen = t
    return s
  }

  destroy (token: string | undefined): void {
    if (token !== undefined) this.byHash.delete(tokenHash(token))
  }

  get size (): number { return this.byHash.size }

  private sweep (): void {
    const t = this.now()
    for (const [k, s] of this.byHash) if (t - s.lastSeen > this.idleMs || t - s.created > this.maxAgeMs) this.byHash.delete(k)
  }
}

function tokenHash (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Constant-time comparison of two strings (false when either is missing). */
export function sameSecret (a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a.length === 0) return false
  const x = createHash('sha256').update(a).digest()
  const y = createHash('sha256').update(b).digest()
  return timingSafeEqual(x, y) && a === b
}

export function randomToken (): string { return randomBytes(32).toString('base64url') }
