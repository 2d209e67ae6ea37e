import { isIP } from 'node:net'
import { hostname as osHostname, networkInterfaces } from 'node:os'

/**
 * The host name of a Host header, lower-cased, without port, brackets or trailing dot;
 * null for a header that is no host at all (`a b`, `[::1`, 300 characters).
 */
export function parseHostHeader (header: string | undefined): string | null {
  if (header === undefined) return ''
  let h = header.trim().toLowerCase()
  if (h === '') return ''
  if (h.length > 300) return null
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    if (end === -1) return null
    const rest = h.slice(end + 1)
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null
    h = h.slice(1, end)
    return isIP(h) === 6 ? h : null
  }
  const colon = h.indexOf(':')
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(h.slice(colon + 1))) return null
    h = h.slice(0, colon)
  }
  if (h.endsWith('.')) h = h.slice(0, -1)
  if (isIP(h) !== 0) return h
  return /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(h) ? h : null
}

/** `::ffff:10.42.0.1` -> `10.42.0.1`; undefined -> ''. */
export function plainIp (addr: string | undefined): string {
  if (addr === undefined) return ''
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr.toLowerCase()
}

export function isLoopback (ip: string): boolean {
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'))
}

const INTERFACES_TTL_MS = 10_000

/** Decides whether a Host names this node: its configured names, its addresses, localhost. */
export class OwnHosts {
  private readonly names: Set<string>
  private addrs = new Set<string>()
  private addrsAt = -Infinity

  constructor (names: Array<string | null>) {
    const host = osHostname().toLowerCase()
    this.names = new Set(['localhost', host, `${host}.local`])
    for (const n of names) if (n !== null && n !== '' && n !== '0.0.0.0' && n !== '::') this.names.add(n.toLowerCase())
  }

  /** `host` is parseHostHeader's result; `localIp` the address the request came in on. */
  has (host: string, localIp: string): boolean {
    // HTTP/1.0 without Host: nothing to redirect from
    if (host === '') return true
    if (this.names.has(host) || host.endsWith('.localhost')) return true
    if (isIP(host) === 0) return false
    if (host === localIp || isLoopback(host)) return true
    return this.interfaceAddresses().has(host)
  }

  private interfaceAddresses (): Set<string> {
    const now = Date.now()
    // interfaces come and go (the hotspot's address appears after the node starts)
    if (now - this.addrsAt > INTERFACES_TTL_MS) {
      const next = new Set<string>()
      for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) next.add(plainIp(a.address.split('%')[0]))
      }
      this.addrs = next
      this.addrsAt = now
    }
    return this.addrs
  }
}
