import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Logger } from 'pino'
import type { NostrEvent } from '../events/types.js'
import type { EventStore } from '../store/types.js'
import type { Limits } from '../config/types.js'
import { Connection, type ConnectionContext } from './connection.js'
import { IpTable } from './rate-limit.js'
import { loadVerifier } from '../events/verify.js'

export interface RelayServerOptions {
  store: EventStore
  limits: Limits
  log: Logger
  /** Between pings; a connection that has not answered the previous ping is dropped. Default 30 s. */
  pingIntervalMs?: number
  /** Outgoing bytes queued for one connection before it is closed as too slow (1008). Default 4 MiB. */
  maxBufferedBytes?: number
  /** Live events held per subscription while its stored query runs. Default 1000. */
  maxPending?: number
  /** The node's clock, seconds; default the system clock. */
  now?: () => number
}

const CLOSE_GRACE_MS = 2000

/**
 * NIP-01 relay over WebSocket. Attach it to an http.Server's 'upgrade' event; it accepts
 * upgrades on `/` only. One store listener fans each accepted event out to all subscriptions.
 */
export class RelayServer {
  private readonly wss: WebSocketServer
  private readonly conns = new Set<Connection>()
  private readonly ips: IpTable
  private readonly ctx: ConnectionContext
  private readonly log: Logger
  private readonly unsubscribe: () => void
  private readonly timer: NodeJS.Timeout
  private closing: Promise<void> | null = null

  constructor (opts: RelayServerOptions) {
    const { limits } = opts
    this.log = opts.log.child({ scope: 'relay' })
    this.ips = new IpTable(limits.connectionsPerIp, limits.eventsPerMinutePerIp)
    this.ctx = {
      store: opts.store,
      limits,
      ips: this.ips,
      log: this.log,
      maxBufferedBytes: opts.maxBufferedBytes ?? 4 * 1024 * 1024,
      maxPending: opts.maxPending ?? 1000,
      verifier: loadVerifier({ forceJs: true }),
      now: opts.now ?? (() => Math.floor(Date.now() / 1000))
    }
    // Frames up to 2x the limit are read and answered with an error; beyond that ws closes with 1009.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxFrameBytes * 2,
      perMessageDeflate: false,
      clientTracking: false
    })
    this.wss.on('error', err => { this.log.error({ err }, 'websocket server error') })
    this.unsubscribe = opts.store.onEvent(e => { this.fanOut(e) })
    this.timer = setInterval(() => { this.heartbeat() }, opts.pingIntervalMs ?? 30_000)
    this.timer.unref()
  }

  /** Open WebSocket connections. */
  get connections (): number {
    return this.conns.size
  }

  /** Open subscriptions over all connections. */
  get subscriptions (): number {
    let n = 0
    for (const c of this.conns) n += c.subscriptions
    return n
  }

  /** The http.Server 'upgrade' handler. */
  handleUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // ws installs its own handler once upgraded; until then a reset must not crash the node
    socket.on('error', err => { this.log.debug({ err }, 'upgrade socket error') })
    try {
      if (this.closing !== null) return reject(socket, 503)
      const path = (req.url ?? '/').split('?', 1)[0]
      if (path !== '/') return reject(socket, 404)
      // counted out on 'close', which a socket already gone would never emit again
      if (socket.destroyed) return
      const ip = req.socket.remoteAddress ?? 'unknown'
      if (!this.ips.connect(ip)) {
        this.log.info({ ip }, 'too many connections from one address')
        return reject(socket, 429)
      }
      socket.once('close', () => { this.ips.disconnect(ip) })
      const host = typeof req.headers.host === 'string' ? req.headers.host : null
      this.wss.handleUpgrade(req, socket, head, ws => { this.accept(ws, ip, host) })
    } catch (err) {
      this.log.error({ err }, 'upgrade failed')
      socket.destroy()
    }
  }

  private accept (ws: WebSocket, ip: string, host: string | null): void {
    if (this.closing !== null) {
      ws.terminate()
      return
    }
    const conn = new Connection(ws, ip, this.ctx, host)
    this.conns.add(conn)
    ws.once('close', () => {
      this.conns.delete(conn)
      conn.dispose()
    })
  }

  private fanOut (e: NostrEvent): void {
    if (this.conns.size === 0) return
    let json: string | undefined
    const serialize = (): string => (json ??= JSON.stringify(e))
    for (const conn of this.conns) {
      try {
        conn.deliver(e, serialize)
      } catch (err) {
        this.log.error({ err, ip: conn.ip }, 'fan-out failed')
      }
    }
  }

  private heartbeat (): void {
    for (const conn of this.conns) {
      if (!conn.alive) {
        this.log.debug({ ip: conn.ip }, 'dropping connection that missed a pong')
        conn.ws.terminate()
        continue
      }
      conn.alive = false
      try {
        conn.ws.ping()
      } catch (err) {
        this.log.debug({ err }, 'ping failed')
      }
    }
    this.ips.sweep()
  }

  /** Closes every connection with 1001 and stops timers. Idempotent. */
  close (): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown (): Promise<void> {
    clearInterval(this.timer)
    this.unsubscribe()
    const closed = [...this.conns].map(conn => new Promise<void>(resolve => {
      if (conn.ws.readyState === conn.ws.CLOSED) return resolve()
      conn.ws.once('close', () => { resolve() })
      conn.ws.close(1001, 'relay shutting down')
    }))
    // a phone that vanished never completes the closing handshake
    const force = setTimeout(() => { for (const c of this.conns) c.ws.terminate() }, CLOSE_GRACE_MS)
    await Promise.all(closed)
    clearTimeout(force)
    await new Promise<void>(resolve => { this.wss.close(() => { resolve() }) })
  }
}

function reject (socket: Duplex, status: number): void {
  const body = STATUS_CODES[status] ?? 'Error'
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${body}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    '\r\n' + body
  )
}
