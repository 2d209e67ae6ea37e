import { EventEmitter } from 'node:events'
import dgram from 'node:dgram'
import { randomInt } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { isIPv4 } from 'node:net'
import { createRequire } from 'node:module'
import c from 'compact-encoding'
import si from 'systeminformation'
import type { Logger } from '../log.js'

export type UplinkState = 'offline' | 'online'

export interface BootstrapAddress { host: string, port: number }

/** An IPv4 default route (hyperdht speaks IPv4 only, so IPv6 routes do not make an uplink). */
export interface DefaultRoute { iface: string, gateway: string | null, metric: number }

export interface UplinkMonitorOptions {
  /** The access point's interface: a default route through it is not an uplink. */
  apInterface?: string
  /** DHT bootstrap nodes probed for reachability; undefined or empty = hyperdht's public ones. */
  bootstrap?: BootstrapAddress[]
  /** Poll interval in ms (default 5000). */
  intervalMs?: number
  /** How long one probe waits for a bootstrap node's answer, in ms (default 1000). */
  probeTimeoutMs?: number
  log: Logger
}

/** What one poll saw (exposed as `last` for status and tests). */
export interface UplinkCheck {
  at: number
  /** Every IPv4 default route. */
  routes: DefaultRoute[]
  /** The default routes that count (not through the access point, not loopback). */
  uplinks: DefaultRoute[]
  /** 'skipped' when there is no uplink route: then nothing is sent. */
  probe: 'ok' | 'failed' | 'skipped'
  /** Bootstrap node that answered, and its round trip in ms. */
  answered?: { host: string, port: number, rttMs: number }
}

const DEFAULT_INTERVAL_MS = 5000
const DEFAULT_PROBE_TIMEOUT_MS = 1000
/** Failed probes in a row (with a route still there) before an online node goes offline. */
export const PROBE_FAILURES_OFFLINE = 2
const RTF_UP = 0x1
const RTF_REJECT = 0x200

/**
 * The IPv4 default routes in /proc/net/route text. Read directly rather than through
 * systeminformation: its Linux default-interface lookup runs `ip route` and, when there is no
 * default route, falls back to the first external interface (it would report the AP).
 */
export function parseProcRoute (text: string): DefaultRoute[] {
  const routes: DefaultRoute[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    const [iface, dest, gw, flagsHex, , , metric, mask] = f as [string, string, string, string, string, string, string, string]
    const flags = parseInt(flagsHex, 16)
    if (dest !== '00000000' || mask !== '00000000') continue
    if ((flags & RTF_UP) === 0 || (flags & RTF_REJECT) !== 0) continue
    routes.push({ iface, gateway: gw === '00000000' ? null : hexToIPv4(gw), metric: Number(metric) })
  }
  return routes.sort((a, b) => a.metric - b.metric)
}

/** /proc/net/route stores addresses as little-endian hex. */
function hexToIPv4 (hex: string): string {
  const n = parseInt(hex, 16)
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.')
}

/** Default routes that can carry an uplink: not through the AP, not through loopback. */
export function uplinkRoutes (routes: DefaultRoute[], apInterface: string | undefined): DefaultRoute[] {
  return routes.filter(r => r.iface !== 'lo' && r.iface !== apInterface)
}

/**
 * The state after one poll. Online needs an uplink route and a bootstrap node answering; a lost
 * route is offline at once, failed probes only after PROBE_FAILURES_OFFLINE in a row (one lost
 * UDP packet must not drop the swarm).
 */
export function decide (prev: UplinkState, check: { uplinks: number, probe: 'ok' | 'failed' | 'skipped', failuresInRow: number }): UplinkState {
  if (check.uplinks === 0) return 'offline'
  if (check.probe === 'ok') return 'online'
  if (prev === 'online' && check.failuresInRow < PROBE_FAILURES_OFFLINE) return 'online'
  return 'offline'
}

/** hyperdht's public bootstrap nodes (`ip@name:port`), for a node given no bootstrap list. */
function publicBootstrap (): BootstrapAddress[] {
  const require = createRequire(import.meta.url)
  const { BOOTSTRAP_NODES } = require('hyperdht/lib/constants.js') as { BOOTSTRAP_NODES: string[] }
  return BOOTSTRAP_NODES.map(s => {
    const m = /^(?:([\d.]+)@)?([^:@]+):(\d+)$/.exec(s)
    if (m === null) throw new Error(`unexpected bootstrap node ${s}`)
    return { host: m[1] ?? (m[2] as string), port: Number(m[3]) }
  })
}

// dht-rpc wire format: a request is [type|version][flags][tid:uint16][to:ipv4 address][command]
const REQUEST_ID = 0x03
const RESPONSE_ID = 0x13
const FLAG_INTERNAL = 4
const CMD_PING = 0

/** A dht-rpc PING request for `to` (the node's own answer is the reachability proof). */
export function encodePing (tid: number, to: BootstrapAddress): Buffer {
  const state = { start: 0, end: 0, buffer: null as unknown as Buffer }
  state.end = 2 + 2 + 6
  c.uint.preencode(state, CMD_PING)
  state.buffer = Buffer.alloc(state.end)
  state.buffer[state.start++] = REQUEST_ID
  state.buffer[state.start++] = FLAG_INTERNAL
  c.uint16.encode(state, tid)
  c.ipv4Address.encode(state, to)
  c.uint.encode(state, CMD_PING)
  return state.buffer
}

/** The transaction id of a dht-rpc response, or null for anything else. */
export function responseTid (msg: Buffer): number | null {
  if (msg.length < 4 || msg[0] !== RESPONSE_ID) return null
  return msg.readUInt16LE(2)
}

/**
 * One UDP round trip to the first bootstrap node that answers a dht-rpc PING, trying each
 * node once; the socket lives only for the probe. Names are resolved by the OS (dgram).
 */
export async function probeBootstrap (nodes: BootstrapAddress[], timeoutMs: number): Promise<{ host: string, port: number, rttMs: number } | null> {
  const sock = dgram.createSocket('udp4')
  sock.on('error', () => {}) // ENETUNREACH and friends: the probe just fails
  try {
    await new Promise<void>((resolve, reject) => { sock.once('listening', resolve); sock.once('error', reject); sock.bind(0) })
    for (const node of nodes) {
      const tid = randomInt(0, 65536)
      const started = Date.now()
      const answered = new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { done(false) }, timeoutMs)
        const onMessage = (msg: Buffer): void => { if (responseTid(msg) === tid) done(true) }
        const done = (ok: boolean): void => { clearTimeout(timer); sock.off('message', onMessage); resolve(ok) }
        sock.on('message', onMessage)
        // `to` is our view of the node's address; a node ignores it in requests without an id
        const to = isIPv4(node.host) ? node : { host: '0.0.0.0', port: node.port }
        sock.send(encodePing(tid, to), node.port, node.host, err => { if (err != null) done(false) })
      })
      if (await answered) return { host: node.host, port: node.port, rttMs: Date.now() - started }
    }
    return null
  } catch {
    return null
  } finally {
    await new Promise<void>(resolve => { sock.close(() => { resolve() }) })
  }
}

/**
 * Online = an IPv4 default route on an interface other than the access point AND a DHT
 * bootstrap node answering a UDP ping through it. Polls every intervalMs with a timer and
 * nothing in between; without an uplink route a poll is one read of /proc/net/route and sends
 * nothing.
 */
export class UplinkMonitor extends EventEmitter {
  private readonly apInterface: string | undefined
  private readonly bootstrap: BootstrapAddress[]
  private readonly intervalMs: number
  private readonly probeTimeoutMs: number
  private readonly log: Logger
  private timer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  private closed = false
  private failuresInRow = 0
  private _state: UplinkState = 'offline'
  private _last: UplinkCheck | null = null

  constructor (opts: UplinkMonitorOptions) {
    super()
    this.apInterface = opts.apInterface !== undefined && opts.apInterface !== '' ? opts.apInterface : undefined
    this.bootstrap = opts.bootstrap !== undefined && opts.bootstrap.length > 0 ? opts.bootstrap : publicBootstrap()
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
    this.probeTimeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS
    this.log = opts.log.child({ scope: 'uplink' })
  }

  get state (): UplinkState { return this._state }

  /** What the last poll saw, null before the first. */
  get last (): UplinkCheck | null { return this._last }

  /** Runs the first check (so `state` is meaningful when this resolves), then polls. */
  async start (): Promise<void> {
    if (this.closed || this.polling !== null || this.timer !== null) return
    this.log.info({ apInterface: this.apInterface ?? null, intervalMs: this.intervalMs, bootstrap: this.bootstrap.map(b => `${b.host}:${b.port}`) }, 'watching for an uplink')
    await this.poll()
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.polling !== null) await this.polling
  }

  /** One check now (also what the timer runs). */
  poll (): Promise<void> {
    if (this.polling !== null) return this.polling
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.polling = this.check().catch(err => {
      this.log.warn({ err: (err as Error).message }, 'uplink check failed')
    }).finally(() => {
      this.polling = null
      if (!this.closed) {
        this.timer = setTimeout(() => { this.timer = null; void this.poll() }, this.intervalMs)
        this.timer.unref()
      }
    })
    return this.polling
  }

  private async check (): Promise<void> {
    let routes: DefaultRoute[] = []
    try {
      routes = parseProcRoute(await readFile('/proc/net/route', 'utf8'))
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'no /proc/net/route')
    }
    const uplinks = uplinkRoutes(routes, this.apInterface)
    const check: UplinkCheck = { at: Date.now(), routes, uplinks, probe: 'skipped' }
    if (uplinks.length > 0) {
      const answered = await probeBootstrap(this.bootstrap, this.probeTimeoutMs)
      check.probe = answered !== null ? 'ok' : 'failed'
      if (answered !== null) check.answered = answered
    }
    if (this.closed) return
    this.failuresInRow = check.probe === 'failed' ? this.failuresInRow + 1 : 0
    this._last = check
    const next = decide(this._state, { uplinks: uplinks.length, probe: check.probe, failuresInRow: this.failuresInRow })
    if (next === this._state) return
    this._state = next
    const via = uplinks[0]
    if (next === 'online') {
      this.log.info({ iface: via?.iface, gateway: via?.gateway, bootstrap: check.answered, ...(await describe(via?.iface)) }, 'uplink online')
    } else {
      this.log.info({ reason: uplinks.length === 0 ? 'no default route off the access point' : 'DHT bootstrap not answering', routes: routes.map(r => r.iface) }, 'uplink offline')
    }
    this.emit(next)
    this.emit('change', next)
  }
}

/** The uplink interface as systeminformation sees it, for the log (best effort). */
async function describe (iface: string | undefined): Promise<Record<string, unknown>> {
  if (iface === undefined) return {}
  try {
    const nic = (await si.networkInterfaces()).find(n => n.iface === iface)
    if (nic === undefined) return {}
    return { type: nic.type, ip4: nic.ip4, operstate: nic.operstate }
  } catch {
    return {}
  }
}
