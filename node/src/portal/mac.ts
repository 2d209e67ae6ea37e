import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { isIP } from 'node:net'
import { isLoopback } from './hosts.js'

export interface MacResolverOptions {
  /** The kernel's IPv4 neighbour table. */
  arpFile?: string
  /** dnsmasq leases file (`expiry mac ip name client-id` per line); null = none. */
  leasesFile: string | null
  /** Ask `ip -j neigh` for IPv6 neighbours. */
  ipNeigh?: boolean
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/
const CACHE_MS = 2000
const MISS_REREAD_MS = 200
const MAX_MISSES = 4096

/** `/proc/net/arp` text -> ip -> mac, complete entries only. */
export function parseArp (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, mac] = line.trim().split(/\s+/)
    if (ip === undefined || mac === undefined || flags === undefined) continue
    const m = mac.toLowerCase()
    // flags 0x0 = incomplete; all zeroes = no answer yet
    if ((Number.parseInt(flags, 16) & 0x2) === 0 || !MAC.test(m) || m === '00:00:00:00:00:00') continue
    out.set(ip, m)
  }
  return out
}

/** dnsmasq leases text -> ip -> mac (IPv4 leases; IPv6 ones carry a DUID, not a MAC). */
export function parseLeases (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const [, mac, ip] = line.trim().split(/\s+/)
    if (mac === undefined || ip === undefined) continue
    const m = mac.toLowerCase()
    if (MAC.test(m) && isIP(ip) !== 0) out.set(ip, m)
  }
  return out
}

interface Cached { at: number, map: Map<string, string> }

/**
 * Finds the MAC address of a client on the hotspot's link: the ARP table, then the DHCP
 * leases, then (IPv6) `ip neigh`. Tables are cached for 2 s (an address missing from the ARP
 * table re-reads it, at most every 200 ms per address); every failure is "unknown".
 */
export class MacResolver {
  private readonly opts: Required<MacResolverOptions>
  private arp: Cached | null = null
  /** When each address missing from the table last caused a fresh read. */
  private readonly misses = new Map<string, number>()
  private leases: Cached & { mtime: number } | null = null

  constructor (opts: MacResolverOptions) {
    // undefined fields must not override the defaults
    this.opts = { arpFile: opts.arpFile ?? '/proc/net/arp', ipNeigh: opts.ipNeigh ?? true, leasesFile: opts.leasesFile }
  }

  async lookup (ip: string): Promise<string | null> {
    if (ip === '' || isLoopback(ip)) return null
    if (isIP(ip) === 4) {
      let m = (await this.arpTable()).get(ip)
      // a phone new to the table (just joined, new lease): look again, at most every 200 ms for
      // the same address, so a phone's first request after it changed address is never missed
      if (m === undefined && this.arp !== null && this.mayReread(ip)) m = (await this.arpTable(true)).get(ip)
      if (m !== undefined) return m
    } else if (isIP(ip) === 6 && this.opts.ipNeigh) {
      const m = await ipNeigh(ip)
      if (m !== null) return m
    }
    return (await this.leaseTable()).get(ip) ?? null
  }

  private mayReread (ip: string): boolean {
    const now = Date.now()
    const last = this.misses.get(ip)
    if (last !== undefined && now - last < MISS_REREAD_MS) return false
    if (this.misses.size >= MAX_MISSES) this.misses.clear()
    this.misses.set(ip, now)
    return true
  }

  private async arpTable (fresh = false): Promise<Map<string, string>> {
    const now = Date.now()
    if (!fresh && this.arp !== null && now - this.arp.at < CACHE_MS) return this.arp.map
    const text = await fs.readFile(this.opts.arpFile, 'utf8').catch(() => '')
    this.arp = { at: now, map: parseArp(text) }
    return this.arp.map
  }

  private async leaseTable (): Promise<Map<string, string>> {
    const file = this.opts.leasesFile
    if (file === null) return new Map()
    const now = Date.now()
    if (this.leases !== null && now - this.leases.at < CACHE_MS) return this.leases.map
    try {
      const st = await fs.stat(file)
      if (this.leases === null || st.mtimeMs !== this.leases.mtime) {
        this.leases = { at: now, mtime: st.mtimeMs, map: parseLeases(await fs.readFile(file, 'utf8')) }
      } else {
        this.leases.at = now
      }
      return this.leases.map
    } catch {
      this.leases = { at: now, mtime: -1, map: new Map() }
      return this.leases.map
    }
  }
}

async function ipNeigh (ip: string): Promise<string | null> {
  return await new Promise(resolve => {
    execFile('ip', ['-j', 'neigh', 'show', 'to', ip], { timeout: 1000 }, (err, stdout) => {
      if (err !== null) return resolve(null)
      try {
        const rows = JSON.parse(stdout) as Array<{ lladdr?: string }>
        const m = rows.find(r => typeof r.lladdr === 'string' && MAC.test(r.lladdr.toLowerCase()))
        resolve(m?.lladdr?.toLowerCase() ?? null)
      } catch {
        resolve(null)
      }
    })
  })
}
