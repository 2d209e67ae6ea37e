import type { Context, Middleware } from 'koa'
import type { Logger } from 'pino'
import { npubEncode, noteEncode } from 'nostr-tools/nip19'
import type { EventStore } from '../store/types.js'
import type { NostrEvent } from '../events/types.js'
import { plainIp } from '../portal/hosts.js'
import { LoginLimiter, MAX_PASSWORD_LENGTH, Sessions, randomToken, readPasswordFile, sameSecret, verifyPassword, type PasswordHash, type Session } from './auth.js'
import { DiskProbe } from './disk.js'
import { ADMIN_CSP, ADMIN_CSS, renderDashboard, renderLogin, renderMessage, renderNotConfigured, type DashboardView } from './html.js'
import { isNoSpace } from '../system/disk-space.js'
import { ModerationError, parseEventRef, parsePubkeyRef, type Moderation, type ModerationAction } from './moderation.js'

export interface AdminOptions {
  /** Node name (page titles). */
  name: string
  /** The scrypt hash file (config adminPasswordFile); null = admin closed. Read on every use. */
  passwordFile: string | null
  /** The /api/health and /api/sync objects: the dashboard shows them, it computes nothing of its own. */
  health: () => Record<string, unknown>
  sync: () => Record<string, unknown>
  moderation: Moderation
  /** The store as stored (previews of hidden events) and as shown here (newest posts). */
  store: Pick<EventStore, 'query'>
  view: Pick<EventStore, 'query'>
  dataDir: string
  log: Logger
  now?: () => number
  /** Failed logins per address before it must wait, and the window (default 5 per 15 min). */
  maxLoginFails?: number
  loginWindowMs?: number
}

export const SESSION_COOKIE = 'outpost_admin'
export const LOGIN_COOKIE = 'outpost_admin_login'
/** Largest form body read (a key, an event id, a password and the CSRF token fit many times). */
export const MAX_FORM_BYTES = 8192
/** Password checks queued behind the one running (scrypt costs ~16 MiB and tens of ms each). */
const MAX_WAITING_CHECKS = 4
const SHOWN = 300
const RECENT_POSTS = 20

/** A problem answered with a small HTML page and this status. */
class Problem extends Error {
  constructor (readonly status: number, readonly title: string, message: string) { super(message) }
}

/**
 * The operator's admin view at /admin: a login with the scrypt hash provisioning writes, then a
 * server-rendered page (no script, strict CSP) of the node's state and the site's moderation.
 *   GET  /admin            login form, or the dashboard
 *   POST /admin/login      password (+ CSRF token bound to a short-lived cookie)
 *   POST /admin/logout
 *   POST /admin/block | /admin/unblock   pubkey
 *   POST /admin/hide  | /admin/unhide    event
 */
export function adminPanel (opts: AdminOptions): Middleware {
  const log = opts.log.child({ scope: 'admin' })
  const now = opts.now ?? Date.now
  const sessions = new Sessions(undefined, undefined, now)
  const limiter = new LoginLimiter(opts.maxLoginFails ?? 5, opts.loginWindowMs ?? 15 * 60_000, now)
  const disk = new DiskProbe(opts.dataDir, now)
  const site = opts.name
  let lastProblem: string | null = null
  let checks: Promise<unknown> = Promise.resolve()
  let waiting = 0

  /** The hash, or null when none is configured, or the reason it cannot be used. */
  const password = async (): Promise<PasswordHash | string | null> => {
    if (opts.passwordFile === null) return null
    const h = await readPasswordFile(opts.passwordFile)
    if (typeof h === 'string' && h !== lastProblem) log.error({ file: opts.passwordFile, problem: h }, 'admin password file unusable: /admin stays closed')
    lastProblem = typeof h === 'string' ? h : null
    return h
  }

  const checkPassword = async (given: string, h: PasswordHash): Promise<boolean | 'busy'> => {
    if (waiting >= MAX_WAITING_CHECKS) return 'busy'
    waiting++
    const run = checks.then(async () => await verifyPassword(given, h))
    checks = run.catch(() => {})
    try { return await run } finally { waiting-- }
  }

  const html = (ctx: Context, status: number, body: string): void => {
    ctx.status = status
    ctx.type = 'text/html; charset=utf-8'
    ctx.body = body
  }

  const sessionOf = (ctx: Context): Session | null => sessions.get(ctx.cookies.get(SESSION_COOKIE))

  const loginPage = (ctx: Context, status: number, error: string | null): void => {
    // the same token while its cookie lives, so two open login tabs both work
    const held = ctx.cookies.get(LOGIN_COOKIE)
    const csrf = held !== undefined && /^[A-Za-z0-9_-]{43}$/.test(held) ? held : randomToken()
    ctx.cookies.set(LOGIN_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', path: '/admin', maxAge: 3600_000, overwrite: true })
    html(ctx, status, renderLogin({ site, csrf, error }))
  }

  const dashboard = async (ctx: Context, s: Session, status: number, error: string | null, typed?: DashboardView['typed']): Promise<void> => {
    const m = opts.moderation
    const hiddenList = m.hiddenEvents().slice(0, SHOWN)
    const stored = hiddenList.length === 0 ? [] : await opts.store.query([{ ids: hiddenList.map(([id]) => id), limit: hiddenList.length }])
    const byId = new Map(stored.map(ev => [ev.id, ev]))
    const recent: NostrEvent[] = await opts.view.query([{ kinds: [1], limit: RECENT_POSTS }])
    const flash = s.flash
    s.flash = null
    html(ctx, status, renderDashboard({
      site,
      session: s,
      health: opts.health(),
      sync: opts.sync(),
      disk: await disk.read(),
      blocked: m.blockedKeys().slice(0, SHOWN),
      hidden: hiddenList.map(([id, entry]) => ({ id, entry, event: byId.get(id) })),
      counts: m.counts,
      actions: m.recentActions().slice(0, 50),
      recent,
      damaged: m.damaged,
      flash,
      error,
      typed,
      now: now()
    }))
  }

  const login = async (ctx: Context, hash: PasswordHash): Promise<void> => {
    const form = await readForm(ctx)
    const ip = clientIp(ctx)
    if (!sameSecret(form.get('csrf') ?? undefined, ctx.cookies.get(LOGIN_COOKIE))) {
      log.warn({ ip }, 'admin login without a valid form token')
      return loginPage(ctx, 403, 'This login form has expired or came from another page: please try again.')
    }
    const wait = limiter.retryAfter(ip)
    if (wait > 0) {
      ctx.set('Retry-After', String(wait))
      log.warn({ ip, retryAfter: wait }, 'admin login refused: too many failures')
      return loginPage(ctx, 429, `Too many wrong passwords from your address: try again in ${Math.ceil(wait / 60)} min.`)
    }
    const given = form.get('password') ?? ''
    if (given.length === 0) return loginPage(ctx, 400, 'Enter the admin password.')
    const ok = given.length <= MAX_PASSWORD_LENGTH ? await checkPassword(given, hash) : false
    if (ok === 'busy') {
      ctx.set('Retry-After', '5')
      return loginPage(ctx, 503, 'The node is busy checking other logins: try again in a few seconds.')
    }
    if (!ok) {
      const left = limiter.fail(ip)
      log.warn({ ip, triesLeft: left }, 'admin login failed: wrong password')
      const minutes = Math.round(limiter.windowMs / 60_000)
      return loginPage(ctx, 403, left > 0 ? `Wrong password. ${left} more ${left === 1 ? 'try' : 'tries'} before a ${minutes}-minute wait.` : `Wrong password. Too many tries: wait ${minutes} min.`)
    }
    limiter.succeed(ip)
    const { token, session } = sessions.create(ip)
    ctx.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/admin', maxAge: sessions.maxAgeMs, overwrite: true })
    ctx.cookies.set(LOGIN_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: '/admin', maxAge: 0, overwrite: true })
    log.info({ session: session.id, ip }, 'admin logged in')
    redirect(ctx)
  }

  const moderate = async (ctx: Context, action: ModerationAction): Promise<void> => {
    const s = sessionOf(ctx)
    if (s === null) throw new Problem(403, 'Log in first', 'Your admin session has expired or you are not logged in: nothing was changed.')
    const form = await readForm(ctx)
    if (!sameSecret(form.get('csrf') ?? undefined, s.csrf)) {
      log.warn({ session: s.id, ip: clientIp(ctx), action }, 'admin form without a valid CSRF token refused')
      throw new Problem(403, 'Refused', 'This form did not come from your admin page (missing or wrong form token): nothing was changed.')
    }
    const onKey = action === 'block' || action === 'unblock'
    const field = onKey ? 'pubkey' : 'event'
    const raw = form.get(field) ?? ''
    const parsed = onKey ? parsePubkeyRef(raw) : parseEventRef(raw)
    if (!parsed.ok) return await dashboard(ctx, s, 400, parsed.error, { field: onKey ? 'block' : 'hide', value: raw.slice(0, 1000) })
    let changed: boolean
    try {
      ({ changed } = await opts.moderation.apply(action, parsed.hex, { session: s.id, ip: clientIp(ctx) }))
    } catch (err) {
      if (err instanceof ModerationError) return await dashboard(ctx, s, 400, err.message)
      if (isNoSpace(err)) return await dashboard(ctx, s, 507, 'The node\'s storage is full: this change was not saved and nothing changed. Free some space, then try again.')
      throw err
    }
    const name = onKey ? npubEncode(parsed.hex) : noteEncode(parsed.hex)
    s.flash = !changed
      ? `Nothing to do: ${name} was already ${action === 'block' ? 'blocked' : action === 'unblock' ? 'not blocked' : action === 'hide' ? 'hidden' : 'not hidden'}.`
      : action === 'block'
        ? `Blocked ${name}: its events are no longer shown here and its posts are refused.`
        : action === 'unblock'
          ? `Unblocked ${name}: its events are shown here again.`
          : action === 'hide' ? `Hidden ${name}: it is no longer shown here.` : `${name} is shown here again.`
    redirect(ctx)
  }

  const route = async (ctx: Context): Promise<void> => {
    const p = ctx.path.replace(/\/+$/, '') || '/'
    const read = ctx.method === 'GET' || ctx.method === 'HEAD'
    if (p === '/admin/admin.css') {
      if (!read) throw methodNotAllowed(ctx, 'GET, HEAD')
      ctx.set('Cache-Control', 'no-cache')
      ctx.type = 'text/css; charset=utf-8'
      ctx.body = ADMIN_CSS
      return
    }
    const action = p === '/admin' ? 'home' : ACTIONS.get(p)
    if (action === undefined) throw new Problem(404, 'Not found', 'There is no such admin page.')
    if (action === 'home') {
      if (!read) throw methodNotAllowed(ctx, 'GET, HEAD')
    } else if (read) {
      return redirect(ctx)
    } else if (ctx.method !== 'POST') {
      throw methodNotAllowed(ctx, 'POST')
    }

    const hash = await password()
    if (hash === null || typeof hash === 'string') {
      // nothing behind a missing or broken password, and no form body is even read
      return html(ctx, 403, renderNotConfigured(site, hash))
    }
    if (action === 'home') {
      const s = sessionOf(ctx)
      if (s === null) return loginPage(ctx, 200, null)
      return await dashboard(ctx, s, 200, null)
    }
    checkOrigin(ctx)
    if (action === 'login') return await login(ctx, hash)
    if (action === 'logout') {
      const s = sessionOf(ctx)
      if (s !== null) {
        const form = await readForm(ctx)
        if (!sameSecret(form.get('csrf') ?? undefined, s.csrf)) throw new Problem(403, 'Refused', 'This form did not come from your admin page: you are still logged in.')
        sessions.destroy(ctx.cookies.get(SESSION_COOKIE))
        log.info({ session: s.id, ip: clientIp(ctx) }, 'admin logged out')
      }
      ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: '/admin', maxAge: 0, overwrite: true })
      return redirect(ctx)
    }
    return await moderate(ctx, action)
  }

  return async (ctx, next) => {
    if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return await next()
    ctx.set('Cache-Control', 'no-store')
    ctx.set('Content-Security-Policy', ADMIN_CSP)
    ctx.set('X-Frame-Options', 'DENY')
    // same-origin (not no-referrer), so the browser sends a real Origin with the forms' POSTs
    ctx.set('Referrer-Policy', 'same-origin')
    try {
      await route(ctx)
    } catch (err) {
      if (err instanceof Problem) {
        return html(ctx, err.status, renderMessage(site, err.title, err.message))
      }
      log.error({ err, method: ctx.method, path: ctx.path }, 'admin request failed')
      html(ctx, 500, renderMessage(site, 'Something went wrong', 'The node could not do this; see its log. Nothing else is affected.'))
    }
  }
}

const ACTIONS = new Map<string, 'login' | 'logout' | ModerationAction>([
  ['/admin/login', 'login'],
  ['/admin/logout', 'logout'],
  ['/admin/block', 'block'],
  ['/admin/unblock', 'unblock'],
  ['/admin/hide', 'hide'],
  ['/admin/unhide', 'unhide']
])

function redirect (ctx: Context): void {
  ctx.status = 303
  ctx.set('Location', '/admin')
  ctx.type = 'text/html; charset=utf-8'
  ctx.body = '<!doctype html><title>Admin</title><a href="/admin">Admin</a>\n'
}

function methodNotAllowed (ctx: Context, allow: string): Problem {
  ctx.set('Allow', allow)
  return new Problem(405, 'Method not allowed', `Use ${allow} here.`)
}

function clientIp (ctx: Context): string {
  return plainIp(ctx.req.socket.remoteAddress) || 'unknown'
}

/** A browser's POST from another site carries its Origin: refused before the body is read. */
function checkOrigin (ctx: Context): void {
  const origin = ctx.get('Origin')
  if (origin === '') return
  if (origin !== `http://${ctx.get('Host')}` && origin !== `https://${ctx.get('Host')}`) {
    throw new Problem(403, 'Refused', 'This form was sent from another site: nothing was changed.')
  }
}

/** An urlencoded form body of at most MAX_FORM_BYTES; anything else is a Problem. */
async function readForm (ctx: Context): Promise<URLSearchParams> {
  const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') throw new Problem(415, 'Not a form', 'Send the form as application/x-www-form-urlencoded.')
  const tooLarge = new Problem(413, 'Too large', `A form here holds at most ${MAX_FORM_BYTES} bytes.`)
  const declared = ctx.get('Content-Length')
  if (declared !== '' && Number(declared) > MAX_FORM_BYTES) throw tooLarge
  const req = ctx.req
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (c: Buffer): void => {
      size += c.length
      if (size <= MAX_FORM_BYTES) { chunks.push(c); return }
      done()
      req.resume() // the rest is read and dropped
      reject(tooLarge)
    }
    const onEnd = (): void => { done(); resolve(Buffer.concat(chunks)) }
    const onError = (err: Error): void => { done(); reject(err) }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
  return new URLSearchParams(body.toString('utf8'))
}
