import { promises as fs } from 'node:fs'
import { isIP } from 'node:net'
import path from 'node:path'
import type { Context, Middleware } from 'koa'
import type { Logger } from 'pino'
import type { PortalOptions } from '../config/types.js'
import { CONTENT_SECURITY_POLICY } from '../http/static-files.js'
import { PortalClients } from './clients.js'
import { OwnHosts, parseHostHeader, plainIp } from './hosts.js'
import { MacResolver } from './mac.js'
import { matchProbe, type OnlineAnswer } from './probes.js'
import { SPLASH_CSS, escapeHtml, renderSplash } from './splash.js'

export interface CaptivePortalOptions {
  portal: PortalOptions
  /** Node name: the splash title when portal.title is empty. */
  name: string
  dataDir: string
  /** The HTTP listen address (its own name/IP is never redirected). */
  listenHost: string
  log: Logger
  /** Neighbour table, for tests; default /proc/net/arp. */
  arpFile?: string
  now?: () => number
}

export const CLIENTS_FILE = 'portal-clients.json'
export const CAPTIVE_JSON = 'application/captive+json'
const MAX_LOGO_BYTES = 512 * 1024
const LOGO_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml'
}

interface ClientState {
  keys: string[]
  /** ms since epoch while accepted, else null. */
  expiresAt: number | null
}

/**
 * The captive portal: answers each OS's connectivity probe (captive until the phone taps
 * Continue, then "online" in online mode), sends every foreign host to the node's own address,
 * serves the splash at /portal/ and the RFC 8908 API at /api/captive. Requests to the node's
 * own names pass through to the app untouched.
 */
export class CaptivePortal {
  readonly clients: PortalClients
  private readonly opts: CaptivePortalOptions
  private readonly own: OwnHosts
  private readonly macs: MacResolver
  private readonly now: () => number
  private logo: { type: string, data: Buffer } | null = null

  private constructor (opts: CaptivePortalOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.own = new OwnHosts([opts.portal.address, ...opts.portal.hostnames, opts.listenHost])
    this.macs = new MacResolver({ leasesFile: opts.portal.leasesFile, arpFile: opts.arpFile })
    this.clients = new PortalClients({
      file: path.join(opts.dataDir, CLIENTS_FILE),
      ttlMs: opts.portal.clientTtl * 1000,
      log: opts.log,
      now: this.now
    })
  }

  static async open (opts: CaptivePortalOptions): Promise<CaptivePortal> {
    const p = new CaptivePortal({ ...opts, log: opts.log.child({ scope: 'portal' }) })
    await p.clients.open()
    await p.loadLogo()
    return p
  }

  async close (): Promise<void> {
    await this.clients.flush()
  }

  middleware (): Middleware {
    return async (ctx, next) => {
      const host = parseHostHeader(ctx.req.headers.host)
      const localIp = plainIp(ctx.req.socket.localAddress)
      if (ctx.path === '/api/captive' || ctx.path === '/api/captive/') return await this.api(ctx)
      if (host !== null && this.own.has(host, localIp)) {
        if (ctx.path === '/portal' || ctx.path.startsWith('/portal/')) return await this.route(ctx)
        return await next()
      }
      // a foreign host: the hotspot's DNS sent it here
      const probe = host === null ? null : matchProbe(host, ctx.path, ctx.get('User-Agent'))
      if (probe === null) return this.redirect(ctx, this.appUrl(ctx))
      const state = await this.state(ctx)
      if (state.expiresAt === null) return this.redirect(ctx, this.appUrl(ctx) + 'portal/')
      if (probe.online === 'app') return this.redirect(ctx, this.appUrl(ctx))
      if (this.opts.portal.mode === 'honest') return this.redirect(ctx, this.appUrl(ctx) + 'portal/')
      this.answer(ctx, probe.online)
    }
  }

  /** `http://<address>[:port]/`: where phones are sent. */
  appUrl (ctx: Context): string {
    const sock = ctx.req.socket
    let host = this.opts.portal.address ?? plainIp(sock.localAddress)
    if (isIP(host) === 6) host = `[${host}]`
    const port = this.opts.portal.port !== 0 ? this.opts.portal.port : sock.localPort ?? 80
    return `http://${host}${port === 80 ? '' : `:${port}`}/`
  }

  private async state (ctx: Context): Promise<ClientState> {
    const ip = plainIp(ctx.req.socket.remoteAddress)
    const mac = await this.macs.lookup(ip)
    const keys = mac !== null ? [`mac:${mac}`, `ip:${ip}`] : [`ip:${ip}`]
    return { keys, expiresAt: this.clients.expiresAt(keys) }
  }

  private redirect (ctx: Context, url: string): void {
    ctx.status = ctx.method === 'GET' || ctx.method === 'HEAD' ? 302 : 303
    ctx.set('Location', url)
    ctx.set('Cache-Control', 'no-store')
    ctx.set('Content-Type', 'text/html; charset=utf-8')
    const u = escapeHtml(url)
    ctx.body = `<!doctype html><title>Continue</title><a href="${u}">${u}</a>\n`
  }

  private answer (ctx: Context, a: Exclude<OnlineAnswer, 'app'>): void {
    ctx.status = a.status
    ctx.set('Cache-Control', 'no-store')
    for (const [k, v] of Object.entries(a.headers ?? {})) ctx.set(k, v)
    if (a.status === 204) return
    // set the exact type first: koa's body setter only guesses one when none is set
    ctx.set('Content-Type', a.type ?? 'text/plain')
    ctx.body = a.body ?? ''
  }

  /** RFC 8908: the client's state as application/captive+json. */
  private async api (ctx: Context): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD')
      ctx.throw(405)
    }
    const state = await this.state(ctx)
    const app = this.appUrl(ctx)
    const accepted = state.expiresAt !== null
    const doc: Record<string, unknown> = {
      captive: !accepted || this.opts.portal.mode === 'honest',
      'user-portal-url': app + 'portal/',
      'venue-info-url': app,
      'can-extend-session': true
    }
    if (state.expiresAt !== null) doc['seconds-remaining'] = Math.max(0, Math.floor((state.expiresAt - this.now()) / 1000))
    ctx.status = 200
    ctx.set('Cache-Control', 'private')
    ctx.set('Content-Type', CAPTIVE_JSON)
    ctx.body = JSON.stringify(doc)
  }

  private async route (ctx: Context): Promise<void> {
    const p = ctx.path.replace(/\/+$/, '')
    const read = ctx.method === 'GET' || ctx.method === 'HEAD'
    const only = (allow: string): void => {
      ctx.set('Allow', allow)
      ctx.throw(405)
    }
    switch (p) {
      case '/portal':
      case '/portal/index.html': {
        if (!read) return only('GET, HEAD')
        const state = await this.state(ctx)
        ctx.status = 200
        ctx.set('Cache-Control', 'no-store')
        ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
        ctx.type = 'text/html; charset=utf-8'
        ctx.body = renderSplash({
          title: this.opts.portal.title !== '' ? this.opts.portal.title : this.opts.name,
          text: this.opts.portal.text,
          appUrl: this.appUrl(ctx),
          hasLogo: this.logo !== null,
          accepted: state.expiresAt !== null,
          honest: this.opts.portal.mode === 'honest'
        })
        return
      }
      case '/portal/continue': {
        if (read) {
          ctx.status = 303
          ctx.set('Location', '/portal/')
          return
        }
        if (ctx.method !== 'POST') return only('GET, HEAD, POST')
        const state = await this.state(ctx)
        const key = state.keys[0] as string
        await this.clients.accept(key)
        this.opts.log.info({ client: key }, 'client continued')
        // a full navigation to the app: iOS turns Cancel into Done only after a page load
        ctx.status = 303
        ctx.set('Location', '/')
        ctx.set('Cache-Control', 'no-store')
        ctx.set('Content-Type', 'text/html; charset=utf-8')
        ctx.body = '<!doctype html><title>Continue</title><a href="/">Open the app</a>\n'
        return
      }
      case '/portal/splash.css':
        if (!read) return only('GET, HEAD')
        ctx.set('Cache-Control', 'no-cache')
        ctx.type = 'text/css; charset=utf-8'
        ctx.body = SPLASH_CSS
        return
      case '/portal/logo':
        if (!read) return only('GET, HEAD')
        if (this.logo === null) return ctx.throw(404)
        ctx.set('Cache-Control', 'no-cache')
        // an operator's SVG opened directly must not run script on the node's origin
        ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        ctx.type = this.logo.type
        ctx.body = this.logo.data
        return
      default:
        ctx.throw(404)
    }
  }

  private async loadLogo (): Promise<void> {
    const file = this.opts.portal.logo
    if (file === null) return
    const type = LOGO_TYPES[path.extname(file).toLowerCase()]
    try {
      if (type === undefined) throw new Error(`not an image name (${Object.keys(LOGO_TYPES).join(', ')})`)
      const st = await fs.stat(file)
      if (!st.isFile()) throw new Error('not a file')
      if (st.size > MAX_LOGO_BYTES) throw new Error(`larger than ${MAX_LOGO_BYTES} bytes`)
      this.logo = { type, data: await fs.readFile(file) }
    } catch (err) {
      this.opts.log.warn({ err, file }, 'portal logo not shown')
    }
  }
}

/** Whether the portal runs: portal.enabled, or by role when auto. */
export function portalEnabled (portal: PortalOptions, role: 'hotspot' | 'relay'): boolean {
  return portal.enabled === 'on' || (portal.enabled === 'auto' && role === 'hotspot')
}
