// DNS-SD records for LAN discovery: building what we advertise and reading what peers send.
// Pure functions over decoded packets (multicast-dns / dns-packet shapes); no sockets here, and
// nothing here throws on what a peer sends: anything unexpected is simply not a service.
import type { MdnsPacket, MdnsQuestion, MdnsRecord } from 'multicast-dns'

export const SERVICE_TYPE = '_outpost._tcp.local'
export const SERVICES_META = '_services._dns-sd._udp.local'

/** What a peer's TXT record says. */
export interface ServiceTxt {
  discoveryId: string
  protocol: number
  port: number
}

/** One service instance found in a response. */
export interface FoundService {
  fqdn: string
  /** Instance label (the peer's name). */
  name: string
  /** SRV port. */
  port: number
  /** SRV target host name. */
  target: string
  ttl: number
  /** Raw TXT strings (null when the packet carried no TXT for it). */
  txt: Buffer[] | null
  /** A records for the target found in the same packet. */
  addresses: string[]
}

export interface ParsedResponse {
  services: FoundService[]
  /** Instances that said goodbye (TTL 0). */
  goodbyes: string[]
}

const DISCOVERY_ID = /^[0-9a-f]{8,128}$/
const MAX_LABEL = 63

/** A DNS label from a free-form name: no dots, at most 63 bytes of UTF-8. */
export function instanceLabel (name: string): string {
  // eslint-disable-next-line no-control-regex
  let label = name.replace(/[.\u0000-\u001f\u007f]/g, '-').trim()
  while (Buffer.byteLength(label) > MAX_LABEL) label = label.slice(0, -1)
  return label === '' ? 'outpost' : label
}

/** A host name label: lowercase letters, digits and dashes. */
export function hostLabel (name: string): string {
  const label = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_LABEL).replace(/-+$/, '')
  return label === '' ? 'outpost' : label
}

export function encodeTxt (txt: ServiceTxt): string[] {
  return [`id=${txt.discoveryId}`, `v=${txt.protocol}`, `port=${txt.port}`]
}

/** The TXT strings as a ServiceTxt, or the reason they are not one. */
export function parseTxt (data: unknown): ServiceTxt | string {
  if (!Array.isArray(data)) return 'no TXT strings'
  const fields = new Map<string, string>()
  for (const item of data) {
    if (!Buffer.isBuffer(item) && typeof item !== 'string') return 'TXT string of the wrong type'
    const text = item.toString()
    const eq = text.indexOf('=')
    if (eq <= 0) continue // a boolean attribute or junk: not ours to judge
    const key = text.slice(0, eq).toLowerCase()
    // RFC 6763 6.4: only the first occurrence of a key counts
    if (!fields.has(key)) fields.set(key, text.slice(eq + 1))
  }
  const id = fields.get('id')
  if (id === undefined || !DISCOVERY_ID.test(id)) return 'missing or malformed discovery id'
  const protocol = decimal(fields.get('v'), 1, 0xffff)
  if (protocol === null) return 'missing or malformed protocol version'
  const port = decimal(fields.get('port'), 1, 65535)
  if (port === null) return 'missing or malformed port'
  return { discoveryId: id, protocol, port }
}

function decimal (text: string | undefined, min: number, max: number): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return null
  const n = Number(text)
  return n >= min && n <= max ? n : null
}

function records (packet: MdnsPacket): MdnsRecord[] {
  const all: unknown[] = [...(Array.isArray(packet.answers) ? packet.answers : []), ...(Array.isArray(packet.additionals) ? packet.additionals : [])]
  return all.filter((r): r is MdnsRecord => typeof r === 'object' && r !== null &&
    typeof (r as MdnsRecord).name === 'string' && typeof (r as MdnsRecord).type === 'string')
}

function sameName (a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

function ttlOf (r: MdnsRecord): number {
  return typeof r.ttl === 'number' && Number.isFinite(r.ttl) && r.ttl >= 0 ? r.ttl : 0
}

function isInstanceName (name: string): boolean {
  const suffix = '.' + SERVICE_TYPE
  return name.length > suffix.length && sameName(name.slice(-suffix.length), suffix)
}

/** Outpost services and goodbyes in a response. */
export function parseResponse (packet: MdnsPacket): ParsedResponse {
  const rrs = records(packet)
  const instances = new Set<string>()
  const goodbyes = new Set<string>()
  for (const r of rrs) {
    if (r.type === 'PTR' && sameName(r.name, SERVICE_TYPE) && typeof r.data === 'string' && isInstanceName(r.data)) {
      if (ttlOf(r) === 0) goodbyes.add(r.data.toLowerCase())
      else instances.add(r.data.toLowerCase())
    } else if (r.type === 'SRV' && isInstanceName(r.name)) {
      if (ttlOf(r) === 0) goodbyes.add(r.name.toLowerCase())
      else instances.add(r.name.toLowerCase())
    }
  }
  const services: FoundService[] = []
  for (const fqdn of instances) {
    if (goodbyes.has(fqdn)) continue
    const srv = rrs.find(r => r.type === 'SRV' && sameName(r.name, fqdn) && ttlOf(r) > 0)
    const data = srv?.data as { port?: unknown, target?: unknown } | undefined
    if (srv === undefined || typeof data !== 'object' || data === null) continue
    const port = data.port
    const target = data.target
    if (typeof port !== 'number' || typeof target !== 'string') continue
    const txt = rrs.find(r => r.type === 'TXT' && sameName(r.name, fqdn) && ttlOf(r) > 0)
    const addresses = rrs
      .filter(r => r.type === 'A' && sameName(r.name, target) && ttlOf(r) > 0 && typeof r.data === 'string')
      .map(r => r.data as string)
    services.push({
      fqdn,
      name: srv.name.slice(0, -(SERVICE_TYPE.length + 1)),
      port,
      target,
      ttl: ttlOf(srv),
      txt: txt !== undefined && Array.isArray(txt.data) ? txt.data as Buffer[] : null,
      addresses
    })
  }
  return { services, goodbyes: [...goodbyes] }
}

/** What this node advertises on one interface. */
export interface Advert {
  fqdn: string
  host: string
  port: number
  txt: string[]
  /** This interface's IPv4 addresses only: a peer on this link can reach them. */
  addresses: string[]
  ttl: number
}

/** The full answer: PTR, then SRV + TXT + A as the same-packet records a browser needs. */
export function advertRecords (a: Advert, ttl = a.ttl): { answers: MdnsRecord[], additionals: MdnsRecord[] } {
  return {
    answers: [{ name: SERVICE_TYPE, type: 'PTR', ttl, data: a.fqdn }],
    additionals: [
      { name: a.fqdn, type: 'SRV', ttl, flush: true, data: { priority: 0, weight: 0, port: a.port, target: a.host } },
      { name: a.fqdn, type: 'TXT', ttl, flush: true, data: a.txt },
      ...a.addresses.map(ip => ({ name: a.host, type: 'A', ttl, flush: true, data: ip }))
    ]
  }
}

/** Whether a query asks for anything we hold: our type, our instance, our host, or the type list. */
export function answersQuery (questions: unknown, a: Advert): 'service' | 'meta' | null {
  if (!Array.isArray(questions)) return null
  let meta = false
  for (const q of questions as Array<Partial<MdnsQuestion> | null>) {
    if (typeof q !== 'object' || q === null || typeof q.name !== 'string') continue
    const type = q.type
    if (sameName(q.name, SERVICE_TYPE) && (type === 'PTR' || type === 'ANY')) return 'service'
    if (sameName(q.name, a.fqdn) && (type === 'SRV' || type === 'TXT' || type === 'ANY')) return 'service'
    if (sameName(q.name, a.host) && (type === 'A' || type === 'ANY')) return 'service'
    if (sameName(q.name, SERVICES_META) && (type === 'PTR' || type === 'ANY')) meta = true
  }
  return meta ? 'meta' : null
}

export function metaRecords (ttl: number): { answers: MdnsRecord[] } {
  return { answers: [{ name: SERVICES_META, type: 'PTR', ttl, data: SERVICE_TYPE }] }
}

export function browseQuery (): MdnsPacket {
  return { type: 'query', questions: [{ name: SERVICE_TYPE, type: 'PTR' }] }
}

function ipv4Int (ip: string): number | null {
  const parts = ip.split('.')
  if (parts.length !== 4) return null
  let n = 0
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null
    n = n * 256 + Number(p)
  }
  return n
}

/** Whether `ip` is on the subnet `address/netmask`. */
export function inSubnet (ip: string, address: string, netmask: string): boolean {
  const a = ipv4Int(ip)
  const b = ipv4Int(address)
  const m = ipv4Int(netmask)
  if (a === null || b === null || m === null) return false
  // >>> 0 keeps the results unsigned
  return ((a & m) >>> 0) === ((b & m) >>> 0)
}

/** An IPv4 interface as os.networkInterfaces() reports it (only those up and running). */
export interface LanInterface {
  name: string
  /** Primary address: multicast membership and outgoing interface. */
  address: string
  netmask: string
  /** All of its IPv4 addresses with their netmasks. */
  addresses: Array<{ address: string, netmask: string }>
}

interface OsAddress { address: string, netmask: string, family: string | number, internal: boolean }

/**
 * The interfaces to run mDNS on: the named ones, or by default every non-loopback IPv4 interface.
 * Interfaces without an IPv4 address (down, or not configured yet) are left out.
 */
export function chooseInterfaces (system: NodeJS.Dict<OsAddress[]>, wanted?: readonly string[]): LanInterface[] {
  const out: LanInterface[] = []
  for (const [name, list] of Object.entries(system)) {
    if (list === undefined) continue
    if (wanted !== undefined && wanted.length > 0 && !wanted.includes(name)) continue
    const v4 = list.filter(a => (a.family === 'IPv4' || a.family === 4) && !a.internal)
    const first = v4[0]
    if (first === undefined) continue
    out.push({ name, address: first.address, netmask: first.netmask, addresses: v4.map(a => ({ address: a.address, netmask: a.netmask })) })
  }
  return out
}

/** Whether a packet from `source` came from this interface's link (a subnet it is on). */
export function onLink (iface: LanInterface, source: string): boolean {
  return iface.addresses.some(a => inSubnet(source, a.address, a.netmask))
}

/**
 * The address to dial a peer at: an advertised address on the link the answer came in on; else
 * the answer's source address (it reached us, so it routes back); else the first advertised one.
 */
export function pickHost (iface: LanInterface, advertised: readonly string[], source: string): string {
  return advertised.find(ip => onLink(iface, ip)) ?? (onLink(iface, source) ? source : advertised[0] ?? source)
}
