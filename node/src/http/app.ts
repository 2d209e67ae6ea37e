import { STATUS_CODES } from 'node:http'
import Koa from 'koa'
import type { Context, Middleware } from 'koa'
import type { Logger } from 'pino'
import { staticFiles } from './static-files.js'

export { createHttpServer, listen, closeHttpServer } from './server.js'

export interface HttpAppOptions {
  log: Logger
  /** The NIP-11 document served at `/` to `Accept: application/nostr+json`. */
  nip11: () => object
  /** `ok: false` until the node is ready (503). */
  health: () => { ok: boolean, [k: string]: unknown }
  /** `GET /api/sync`: peers and logs of node-to-node sync. */
  sync?: () => object
  /** The web client (for now captive-portal/). */
  staticDir: string
  /** Captive portal (node/src/portal): runs before NIP-11, health and the static files. */
  portal?: Middleware
  /** The operator's admin view at /admin (node/src/admin). */
  admin?: Middleware
  /** Relay role: the read-only mirror (node/src/mirror) answers `/` instead of the web client. */
  mirror?: Middleware
  /** The node's clock (ms) for the Date header, which phones adopt; default the system clock. */
  now?: () => number
  /** A phone told its clock (ms; header PHONE_TIME_HEADER), from this address. */
  phoneClock?: (address: string, ms: number) => void
}

/** The web app sends its phone's clock (ms) in this header with its first request. */
export const PHONE_TIME_HEADER = 'X-Outpost-Phone-Time'

const NOSTR_JSON = 'application/nostr+json'

/** The koa app: one error mapper on top, the captive portal, /admin, NIP-11, health, static web client, 404. */
export function createHttpApp (opts: HttpAppOptions): Koa {
  const log = opts.log.child({ scope: 'http' })
  const app = new Koa()
  app.proxy = false
  // errors raised after the handlers ran (e.g. a file stream failing mid-response)
  app.on('error', (err: unknown, ctx?: Context) => {
    log.warn({ err, method: ctx?.method, url: ctx?.url }, 'response failed')
  })

  app.use(errorMapper(log))
  const now = opts.now
  if (now !== undefined) {
    // Node's http would date answers by the system clock, which on a Pi can be hours behind
    app.use(async (ctx, next) => { ctx.set('Date', new Date(now()).toUTCString()); await next() })
  }
  const phoneClock = opts.phoneClock
  if (phoneClock !== undefined) {
    app.use(async (ctx, next) => {
      const v = ctx.get(PHONE_TIME_HEADER)
      if (/^\d{1,16}$/.test(v)) phoneClock(ctx.req.socket.remoteAddress ?? '', Number(v))
      await next()
    })
  }
  if (opts.portal !== undefined) app.use(opts.portal)
  if (opts.admin !== undefined) app.use(opts.admin)
  app.use(nip11(opts.nip11))
  app.use(health(opts.health))
  if (opts.sync !== undefined) app.use(jsonGet('/api/sync', opts.sync))
  if (opts.mirror !== undefined) app.use(opts.mirror)
  else app.use(staticFiles({ root: opts.staticDir, log }))
  app.use(ctx => { ctx.throw(404) })
  return app
}

function errorMapper (log: Logger): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff')
    ctx.set('Referrer-Policy', 'no-referrer')
    try {
      await next()
    } catch (e) {
      const err = e as { status?: unknown, statusCode?: unknown, expose?: unknown, message?: unknown }
      const raw = err.status ?? err.statusCode
      const status = typeof raw === 'number' && raw >= 400 && raw < 600 ? raw : 500
      if (status >= 500) log.error({ err: e, method: ctx.method, url: ctx.url }, 'request failed')
      const shown = status < 500 && err.expose === true && typeof err.message === 'string'
        ? err.message
        : STATUS_CODES[status] ?? 'Error'
      for (const h of ['Cache-Control', 'ETag', 'Last-Modified', 'Content-Encoding', 'Content-Security-Policy']) ctx.remove(h)
      ctx.set('Cache-Control', 'no-store')
      ctx.status = status
      ctx.body = { error: shown }
    }
  }
}

function cors (ctx: Context): void {
  ctx.set('Access-Control-Allow-Origin', '*')
  ctx.set('Access-Control-Allow-Headers', 'Accept, Content-Type')
  ctx.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS')
  ctx.set('Access-Control-Max-Age', '86400')
}

/** NIP-11 at `/` when asked for application/nostr+json; CORS so web clients on any origin can read it. */
function nip11 (doc: () => object): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/') return await next()
    // the same URL serves the web client: caches must key on Accept
    ctx.vary('Accept')
    if (ctx.method === 'OPTIONS') {
      cors(ctx)
      ctx.status = 204
      return
    }
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.get('Accept').includes(NOSTR_JSON)) {
      cors(ctx)
      ctx.set('Cache-Control', 'no-cache')
      ctx.type = NOSTR_JSON
      ctx.body = JSON.stringify(doc())
      return
    }
    await next()
  }
}

function health (probe: HttpAppOptions['health']): Middleware {
  return jsonGet('/api/health', () => probe(), (ctx, h) => { ctx.status = h.ok ? 200 : 503 })
}

/** A read-only JSON status endpoint (CORS, never cached). */
function jsonGet<T extends object> (route: string, probe: () => T, status?: (ctx: Context, body: T) => void): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== route) return await next()
    cors(ctx)
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204
      return
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD, OPTIONS')
      ctx.throw(405)
    }
    const body = probe()
    ctx.set('Cache-Control', 'no-store')
    status?.(ctx, body)
    ctx.body = body
  }
}
