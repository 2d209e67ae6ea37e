// LAN discovery: DNS-SD over mDNS (`_outpost._tcp`), one socket per chosen interface.
//
// Why one socket per interface, each bound to 0.0.0.0:5353: on Linux a UDP socket bound to a
// unicast address never receives multicast (bonjour-service given `interface: <ip>` binds there
// and finds nothing), while one socket on 0.0.0.0 sends every packet out of a single interface,
// and none at all without a default route (ENETUNREACH: an offline hotspot has no such route).
// So each interface gets its own multicast-dns socket (the transport bonjour-service runs on)
// with group membership and IP_MULTICAST_IF on that interface's address, and advertises only
// that interface's addresses. Linux delivers a group's packets to every socket bound to the
// port (IP_MULTICAST_ALL), so each socket only handles packets whose source is on its link.
import { EventEmitter } from 'node:events'
import { networkInterfaces as osNetworkInterfaces } from 'node:os'
import { randomInt } from 'node:crypto'
import multicastDns from 'multicast-dns'
import type { MdnsPacket, MulticastDns, RemoteInfo } from 'multicast-dns'
import type { Logger } from 'pino'
import {
  advertRecords, answersQuery, browseQuery, chooseInterfaces, encodeTxt, hostLabel, instanceLabel,
  metaRecords, onLink, parseResponse, parseTxt, pickHost, SERVICE_TYPE
} from './mdns-records.js'
import type { Advert, FoundService, LanInterface } from './mdns-records.js'

export interface LanPeer { host: string, port: number, discoveryId: string, protocol: number, name: string, source: 'lan' }

export interface LanDiscoveryOptions {
  /** Opaque hex string (hash of the community public key; never the key). */
  discoveryId: string
  /** Advertised TCP port. */
  syncPort: number
  /** Sync protocol version, advertised; peers with another version are ignored. */
  protocol: number
  /** Instance name (node name + short unique suffix). */
  name: string
  log: Logger
  /** Interface names to advertise and browse on; default every non-loopback IPv4 interface. */
  interfaces?: string[]
  /** TTL of our records in seconds (default 120); we re-announce every third of it. */
  ttl?: number
  /** How often the interface list is read again, in ms (default 5000): an AP may come up late. */
  rescanMs?: number
  /** The platform's interface list (os.networkInterfaces); swappable for tests. */
  networkInterfaces?: () => NodeJS.Dict<Array<{ address: string, netmask: string, family: string | number, internal: boolean }>>
}

/** Why a service was not reported as a peer ('ignored' event, once per service and reason). */
export interface IgnoredService { name: string, reason: string, from: string }

interface Link {
  iface: LanInterface
  mdns: MulticastDns
  advert: Advert
  ready: Promise<boolean>
  timers: Set<NodeJS.Timeout>
  /** Answers owed to queries, sent together by one timer. */
  pending: Set<'service' | 'meta'>
  lastAnswer: number
  queryDelay: number
}

interface Entry { peer: LanPeer, link: Link, lastSeen: number, ttl: number, queried: boolean }

const MDNS_PORT = 5353
const AUTHORITATIVE = 1 << 10
const DISCOVERY_ID = /^[0-9a-f]{8,128}$/i
const MAX_PEERS = 256
const MAX_IGNORED = 1024
const MAX_TTL = 4500
const GOODBYE_WAIT_MS = 1000

export class LanDiscovery extends EventEmitter {
  readonly fqdn: string
  readonly host: string
  private readonly opts: LanDiscoveryOptions
  private readonly log: Logger
  private readonly ttl: number
  private readonly links = new Map<string, Link>()
  private readonly peers = new Map<string, Entry>()
  private readonly ignored = new Set<string>()
  private readonly missing = new Set<string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private starting: Promise<void> | null = null
  private scanning: Promise<void> | null = null
  private closing: Promise<void> | null = null

  constructor (opts: LanDiscoveryOptions) {
    super()
    if (!DISCOVERY_ID.test(opts.discoveryId)) throw new TypeError('discoveryId must be 8-128 hex characters')
    if (!Number.isInteger(opts.syncPort) || opts.syncPort < 1 || opts.syncPort > 65535) throw new TypeError('syncPort must be 1-65535')
    if (!Number.isInteger(opts.protocol) || opts.protocol < 1 || opts.protocol > 0xffff) throw new TypeError('protocol must be 1-65535')
    this.opts = { ...opts, discoveryId: opts.discoveryId.toLowerCase() }
    this.log = opts.log.child({ scope: 'mdns' })
    this.ttl = Math.max(1, Math.min(MAX_TTL, Math.round(opts.ttl ?? 120)))
    this.fqdn = `${instanceLabel(opts.name)}.${SERVICE_TYPE}`
    this.host = `${hostLabel(opts.name)}.local`
  }

  /** Opens the sockets and starts advertising and browsing; resolves once they are bound. */
  start (): Promise<void> {
    if (this.starting === null) this.starting = this.open()
    return this.starting
  }

  /** Says goodbye on every interface and closes the sockets. Idempotent. */
  close (): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown()
    return this.closing
  }

  /** Interfaces in use, for status and logs. */
  interfaces (): LanInterface[] {
    return [...this.links.values()].map(l => l.iface)
  }

  private async open (): Promise<void> {
    await this.rescan()
    if (this.closing !== null) return
    // the rescan timer keeps the process alive like a listening socket would, until close()
    this.every(this.opts.rescanMs ?? 5000, () => { this.rescan().catch(err => this.log.warn({ err }, 'interface rescan failed')) }, true)
    this.every(Math.min(1000, this.ttl * 250), () => this.expire())
    this.log.info({ interfaces: this.interfaces().map(i => `${i.name}=${i.address}`), name: this.fqdn }, 'LAN discovery started')
  }

  private async shutdown (): Promise<void> {
    await this.starting?.catch(() => {})
    for (const t of this.timers) clearInterval(t)
    this.timers.clear()
    await this.scanning
    await Promise.all([...this.links.values()].map(link => this.closeLink(link, false)))
    this.peers.clear()
    this.log.info('LAN discovery closed')
  }

  private every (ms: number, fn: () => void, ref = false): void {
    const t = setInterval(fn, ms)
    if (!ref) t.unref()
    this.timers.add(t)
  }

  /** One scan at a time: a slow goodbye must not let the next scan open a link twice. */
  private rescan (): Promise<void> {
    if (this.scanning === null) this.scanning = this.scan().finally(() => { this.scanning = null })
    return this.scanning
  }

  private async scan (): Promise<void> {
    if (this.closing !== null) return
    let chosen: LanInterface[]
    try {
      chosen = chooseInterfaces((this.opts.networkInterfaces ?? osNetworkInterfaces)(), this.opts.interfaces)
    } catch (err) {
      this.log.warn({ err }, 'cannot list network interfaces')
      return
    }
    const byName = new Map(chosen.map(i => [i.name, i]))
    for (const [name, link] of this.links) {
      const now = byName.get(name)
      if (now === undefined || now.address !== link.iface.address || now.netmask !== link.iface.netmask) {
        this.log.info({ interface: name, was: link.iface.address, now: now?.address ?? null }, 'interface changed; reopening mDNS')
        await this.closeLink(link, true)
      }
    }
    for (const wanted of this.opts.interfaces ?? []) {
      if (byName.has(wanted)) {
        this.missing.delete(wanted)
      } else if (!this.missing.has(wanted)) {
        this.missing.add(wanted)
        this.log.warn({ interface: wanted }, 'LAN interface has no IPv4 address (yet); will retry')
      }
    }
    if (chosen.length === 0 && this.links.size === 0 && !this.missing.has('')) {
      this.missing.add('')
      this.log.warn('no IPv4 interface for LAN discovery (yet); will retry')
    }
    const opened = chosen.filter(i => !this.links.has(i.name)).map(i => this.openLink(i))
    await Promise.all(opened)
  }

  private openLink (iface: LanInterface): Promise<boolean> {
    // bind 0.0.0.0 (a unicast bind gets no multicast); membership + outgoing interface by address
    const mdns = multicastDns({ interface: iface.address, bind: '0.0.0.0', port: MDNS_PORT, reuseAddr: true, loopback: true, ttl: 255 })
    const link: Link = {
      iface,
      mdns,
      advert: {
        fqdn: this.fqdn,
        host: this.host,
        port: this.opts.syncPort,
        txt: encodeTxt({ discoveryId: this.opts.discoveryId, protocol: this.opts.protocol, port: this.opts.syncPort }),
        addresses: iface.addresses.map(a => a.address),
        ttl: this.ttl
      },
      ready: Promise.resolve(false),
      timers: new Set(),
      pending: new Set(),
      lastAnswer: 0,
      queryDelay: 1000
    }
    this.links.set(iface.name, link)
    const log = this.log.child({ interface: iface.name })
    mdns.on('warning', (err: NodeJS.ErrnoException) => {
      // membership failures matter; decode errors are any stranger's garbage
      if (err.syscall === 'addMembership' || err.syscall === 'setMulticastInterface') log.warn({ err }, 'mDNS socket setup')
      else log.debug({ err: err.message }, 'mDNS packet dropped')
    })
    mdns.on('query', (packet: MdnsPacket, rinfo: RemoteInfo) => this.guard(log, () => this.onQuery(link, packet, rinfo)))
    mdns.on('response', (packet: MdnsPacket, rinfo: RemoteInfo) => this.guard(log, () => this.onResponse(link, packet, rinfo)))
    link.ready = new Promise<boolean>(resolve => {
      mdns.once('ready', () => resolve(true))
      mdns.on('error', (err: Error) => {
        log.warn({ err }, 'mDNS socket failed; retrying at the next interface scan')
        resolve(false)
        this.closeLink(link, false).catch(() => {})
      })
    })
    return link.ready.then(ok => {
      if (!ok || this.links.get(iface.name) !== link) return false
      log.debug({ address: iface.address }, 'mDNS on interface')
      this.announce(link, 0)
      this.query(link, randomInt(20, 120))
      return true
    })
  }

  private async closeLink (link: Link, goodbye: boolean): Promise<void> {
    const name = link.iface.name
    // a failed socket may already have been replaced by a new one for the same interface
    if (this.links.get(name) !== link) return
    this.links.delete(name)
    for (const t of link.timers) clearTimeout(t)
    link.timers.clear()
    for (const [key, entry] of this.peers) {
      if (entry.link !== link) continue
      this.peers.delete(key)
      if (this.closing === null) this.emit('lost', entry.peer)
    }
    if ((goodbye || this.closing !== null) && await link.ready) await this.send(link, { type: 'response', flags: AUTHORITATIVE, ...advertRecords(link.advert, 0) }, GOODBYE_WAIT_MS)
    await new Promise<void>(resolve => link.mdns.destroy(() => resolve()))
  }

  private later (link: Link, ms: number, fn: () => void): void {
    const t = setTimeout(() => { link.timers.delete(t); fn() }, ms)
    t.unref()
    link.timers.add(t)
  }

  private send (link: Link, packet: MdnsPacket, timeoutMs?: number): Promise<void> {
    return new Promise<void>(resolve => {
      const timer = timeoutMs === undefined ? null : setTimeout(resolve, timeoutMs)
      try {
        link.mdns.send(packet, null, err => {
          if (timer !== null) clearTimeout(timer)
          if (err) this.log.debug({ interface: link.iface.name, err: err.message }, 'mDNS send failed')
          resolve()
        })
      } catch (err) {
        this.log.debug({ interface: link.iface.name, err }, 'mDNS send failed')
        resolve()
      }
    })
  }

  /** Unsolicited announcements: two a second apart (RFC 6762 8.3), then every third of the TTL. */
  private announce (link: Link, n: number): void {
    this.send(link, { type: 'response', flags: AUTHORITATIVE, ...advertRecords(link.advert) }).catch(() => {})
    link.lastAnswer = Date.now()
    this.later(link, n === 0 ? 1000 : this.ttl * 1000 / 3, () => this.announce(link, n + 1))
  }

  /** Browse queries back off from 1 s to half the TTL. */
  private query (link: Link, ms: number): void {
    this.later(link, ms, () => {
      this.send(link, browseQuery()).catch(() => {})
      const next = link.queryDelay
      link.queryDelay = Math.min(link.queryDelay * 2, Math.max(1000, this.ttl * 500))
      this.query(link, next)
    })
  }

  private guard (log: Logger, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      log.warn({ err }, 'mDNS packet handling failed')
    }
  }

  /** Whether a packet is this link's to handle: it is still open, and the sender is on its subnet. */
  private mine (link: Link, rinfo: RemoteInfo): boolean {
    return this.links.get(link.iface.name) === link && onLink(link.iface, rinfo.address)
  }

  private onQuery (link: Link, packet: MdnsPacket, rinfo: RemoteInfo): void {
    if (!this.mine(link, rinfo)) return
    const wants = answersQuery(packet.questions, link.advert)
    if (wants === null) return
    const scheduled = link.pending.size > 0
    link.pending.add(wants)
    if (scheduled) return
    // shared records wait 20-120 ms (RFC 6762 6) and go out at most once a second per link
    const wait = Math.max(randomInt(20, 120), link.lastAnswer + 1000 - Date.now())
    this.later(link, wait, () => {
      const service = link.pending.has('service') ? advertRecords(link.advert) : { answers: [], additionals: [] }
      const meta = link.pending.has('meta') ? metaRecords(this.ttl).answers : []
      link.pending.clear()
      link.lastAnswer = Date.now()
      const packet = { type: 'response' as const, flags: AUTHORITATIVE, answers: [...service.answers, ...meta], additionals: service.additionals }
      this.send(link, packet).catch(() => {})
    })
  }

  private onResponse (link: Link, packet: MdnsPacket, rinfo: RemoteInfo): void {
    if (!this.mine(link, rinfo)) return
    const { services, goodbyes } = parseResponse(packet)
    for (const fqdn of goodbyes) this.drop(`${link.iface.name}|${fqdn}`)
    for (const s of services) this.found(link, s, rinfo)
  }

  private found (link: Link, s: FoundService, rinfo: RemoteInfo): void {
    if (s.fqdn === this.fqdn.toLowerCase()) return
    const txt = parseTxt(s.txt)
    if (typeof txt === 'string') return this.ignore(s, txt, rinfo)
    if (txt.discoveryId !== this.opts.discoveryId) return this.ignore(s, 'another discovery id', rinfo)
    if (txt.protocol !== this.opts.protocol) return this.ignore(s, `protocol ${txt.protocol}, ours ${this.opts.protocol}`, rinfo)
    if (txt.port !== s.port) return this.ignore(s, 'TXT port differs from SRV port', rinfo)
    const key = `${link.iface.name}|${s.fqdn}`
    const peer: LanPeer = {
      host: pickHost(link.iface, s.addresses, rinfo.address),
      port: s.port,
      discoveryId: txt.discoveryId,
      protocol: txt.protocol,
      name: s.name,
      source: 'lan'
    }
    const ttl = Math.max(1, Math.min(MAX_TTL, s.ttl))
    const known = this.peers.get(key)
    if (known !== undefined && known.peer.host === peer.host && known.peer.port === peer.port) {
      known.lastSeen = Date.now()
      known.ttl = ttl
      known.queried = false
      return
    }
    if (known !== undefined) this.drop(key)
    else if (this.peers.size >= MAX_PEERS) return this.ignore(s, 'too many peers', rinfo)
    this.peers.set(key, { peer, link, lastSeen: Date.now(), ttl, queried: false })
    this.log.info({ peer: peer.name, host: peer.host, port: peer.port, interface: link.iface.name }, 'LAN peer found')
    this.emit('peer', peer)
  }

  private ignore (s: FoundService, reason: string, rinfo: RemoteInfo): void {
    const key = `${s.fqdn}|${reason}`
    if (this.ignored.has(key)) return
    if (this.ignored.size >= MAX_IGNORED) this.ignored.clear()
    this.ignored.add(key)
    this.log.debug({ service: s.fqdn, from: rinfo.address, reason }, 'mDNS service ignored')
    const info: IgnoredService = { name: s.name, reason, from: rinfo.address }
    this.emit('ignored', info)
  }

  private drop (key: string): void {
    const entry = this.peers.get(key)
    if (entry === undefined) return
    this.peers.delete(key)
    this.log.info({ peer: entry.peer.name, host: entry.peer.host, port: entry.peer.port }, 'LAN peer gone')
    this.emit('lost', entry.peer)
  }

  /** Forget peers whose records ran out; ask once more at 80% of the TTL (RFC 6762 5.2). */
  private expire (): void {
    const now = Date.now()
    for (const [key, e] of this.peers) {
      const age = now - e.lastSeen
      if (age > e.ttl * 1000) {
        this.drop(key)
      } else if (age > e.ttl * 800 && !e.queried) {
        e.queried = true
        this.send(e.link, browseQuery()).catch(() => {})
      }
    }
  }
}
