// Shared by the mDNS tests: LanDiscovery (compiled, from dist/) and a raw multicast-dns
// responder, each run as a process inside a namespace and reporting events as JSON lines.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Lab, NsProcess } from '../helpers/netns.js'
import { ensureBuilt, ROOT } from '../helpers/node-process.js'

export interface PeerLine { event: 'peer' | 'lost', host: string, port: number, discoveryId: string, protocol: number, name: string, source: string }
export interface IgnoredLine { event: 'ignored', name: string, reason: string, from: string }
export type DiscoveryLine = PeerLine | IgnoredLine | { event: 'ready' | 'closed', interfaces?: Array<{ name: string, address: string }> }

export const ID_A = 'a1'.repeat(16)
export const ID_B = 'b2'.repeat(16)

const DISCOVERY = `
const [moduleUrl, json] = process.argv.slice(1)
const { pino } = await import('pino')
const { LanDiscovery } = await import(moduleUrl)
const out = o => process.stdout.write(JSON.stringify(o) + '\\n')
const d = new LanDiscovery({ ...JSON.parse(json), log: pino({ level: process.env.OUTPOST_TEST_LOG ?? 'warn' }, pino.destination(2)) })
for (const event of ['peer', 'lost', 'ignored']) d.on(event, v => out({ event, ...v }))
await d.start()
out({ event: 'ready', interfaces: d.interfaces() })
process.once('SIGTERM', async () => {
  await Promise.all([d.close(), d.close()])
  await d.close()
  out({ event: 'closed' })
  process.exit(0)
})
`

/** LanDiscovery with these options (log is added) in namespace `ns`; resolves once started. */
export async function startDiscovery (lab: Lab, ns: string, opts: Record<string, unknown>, logLevel?: string): Promise<NsProcess> {
  ensureBuilt()
  const url = pathToFileURL(path.join(ROOT, 'dist', 'sync', 'mdns.js')).href
  const env = logLevel === undefined ? process.env : { ...process.env, OUTPOST_TEST_LOG: logLevel }
  const p = lab.spawn(ns, process.execPath, ['--input-type=module', '-e', DISCOVERY, url, JSON.stringify(opts)], { cwd: ROOT, env })
  await p.waitForJson<DiscoveryLine>(v => v.event === 'ready')
  return p
}

const RAW = `
const [json] = process.argv.slice(1)
const { default: mdns } = await import('multicast-dns')
const dgram = await import('node:dgram')
const { packets, raw, sniff, address } = JSON.parse(json)
// {"$b64": "..."} in a packet stands for a Buffer (binary TXT strings)
const revive = v => Array.isArray(v) ? v.map(revive)
  : v !== null && typeof v === 'object' ? (typeof v.$b64 === 'string' ? Buffer.from(v.$b64, 'base64') : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)])))
    : v
// a namespace has no default route: multicast goes out only with the interface named
const m = mdns({ interface: address, bind: '0.0.0.0', reuseAddr: true })
const out = o => process.stdout.write(JSON.stringify(o) + '\\n')
m.on('warning', () => {})
if (sniff) m.on('response', (p, rinfo) => out({ event: 'response', from: rinfo.address, records: [...p.answers, ...p.additionals].map(r => ({ name: r.name, type: r.type, ttl: r.ttl, data: Buffer.isBuffer(r.data) || Array.isArray(r.data) ? String(r.data) : r.data })) }))
const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true })
await new Promise(resolve => m.once('ready', resolve))
await new Promise(resolve => udp.bind(0, resolve))
udp.setMulticastInterface(address)
const burst = () => {
  for (const p of packets ?? []) m.send(p.type === 'query' ? revive(p) : { type: 'response', flags: 1 << 10, ...revive(p) }, null, () => {})
  for (const hex of raw ?? []) udp.send(Buffer.from(hex, 'hex'), 5353, '224.0.0.251')
}
burst()
setInterval(burst, 300)
out({ event: 'ready' })
`

/**
 * A raw mDNS responder on the interface with `address`: sends these packets (responses unless
 * `type: 'query'`) and raw datagrams (hex) every 300 ms; `sniff` prints every response it hears.
 */
export async function startRaw (lab: Lab, ns: string, opts: { address: string, packets?: unknown[], raw?: string[], sniff?: boolean }): Promise<NsProcess> {
  const p = lab.spawn(ns, process.execPath, ['--input-type=module', '-e', RAW, JSON.stringify(opts)], { cwd: ROOT })
  await p.waitForJson<{ event: string }>(v => v.event === 'ready')
  return p
}

export const isPeer = (name: string, event: 'peer' | 'lost' = 'peer') => (v: DiscoveryLine): boolean =>
  v.event === event && 'name' in v && v.name === name

export function events (p: NsProcess): DiscoveryLine[] {
  return p.json() as DiscoveryLine[]
}
