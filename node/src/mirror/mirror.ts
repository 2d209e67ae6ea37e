import type { Context, Middleware } from 'koa'
import type { Filter, NostrEvent } from '../events/types.js'
import { CONTENT_SECURITY_POLICY } from '../http/static-files.js'
import { MIRROR_CSS, escapeHtml, formatTime, page, profileName, renderText, shortKey } from './html.js'

export interface MirrorOptions {
  /** Only reads: every page is a few bounded store queries. */
  store: { query (filters: Filter[]): Promise<NostrEvent[]> }
  /** Site title (the node or community name). */
  name: string
  /** Posts per page (default 50). */
  pageSize?: number
  /** The store's filter limit cap (limits.maxLimit): page + skip never asks for more. */
  maxLimit: number
}

const HEX64 = /^[0-9a-f]{64}$/
const MAX_TAG = 64
const MAX_REPLIES = 200
const MAX_TAGS_SHOWN = 12
const POST = 1

/**
 * A read-only web view of the community's public posts (kind 1) for the relay role:
 * server-rendered HTML, no script, newest first with paging, per tag, per author and one
 * page per post with its replies. Content is untrusted: rendered as escaped text only.
 *   /                 newest posts   (?until=SECONDS[&skip=N])
 *   /t/<tag>          posts with #tag
 *   /p/<hex pubkey>   posts of one author
 *   /e/<hex id>       one post, its parent link and its replies
 */
export function mirror (opts: MirrorOptions): Middleware {
  const size = Math.max(1, Math.min(opts.pageSize ?? 50, opts.maxLimit))
  return async (ctx, next) => {
    const route = match(ctx.path)
    if (route === null) return await next()
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD')
      ctx.throw(405)
    }
    if (route.kind === 'css') {
      ctx.type = 'text/css; charset=utf-8'
      ctx.set('Cache-Control', 'public, max-age=3600')
      ctx.body = MIRROR_CSS
      return
    }
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    ctx.set('Cache-Control', 'no-cache')
    ctx.type = 'text/html; charset=utf-8'
    const html = await render(ctx, route, opts, size)
    ctx.body = html
  }
}

type Route = { kind: 'css' } | { kind: 'home' } | { kind: 'tag', tag: string } | { kind: 'author', pubkey: string } | { kind: 'post', id: string } | { kind: 'bad', status: number, why: string }

function match (p: string): Route | null {
  if (p === '/mirror.css') return { kind: 'css' }
  if (p === '/') return { kind: 'home' }
  const m = /^\/([tpe])\/([^/]+)\/?$/.exec(p)
  if (m === null) return null
  const [, kind, rawArg] = m as unknown as [string, string, string]
  let arg: string
  try { arg = decodeURIComponent(rawArg) } catch { return { kind: 'bad', status: 400, why: 'This address is not valid.' } }
  if (kind === 't') {
    if (arg.length === 0 || arg.length > MAX_TAG) return { kind: 'bad', status: 404, why: 'No such tag.' }
    return { kind: 'tag', tag: arg }
  }
  const hex = arg.toLowerCase()
  if (!HEX64.test(hex)) return { kind: 'bad', status: 404, why: kind === 'e' ? 'No such post.' : 'No such author.' }
  return kind === 'e' ? { kind: 'post', id: hex } : { kind: 'author', pubkey: hex }
}

async function render (ctx: Context, route: Exclude<Route, { kind: 'css' }>, opts: MirrorOptions, size: number): Promise<string> {
  const site = opts.name
  const fail = (status: number, why: string): string => {
    ctx.status = status
    return page({ site, title: `${status} · ${site}`, body: `<h1>${escapeHtml(why)}</h1><p><a href="/">Newest posts</a></p>` })
  }
  switch (route.kind) {
    case 'bad': return fail(route.status, route.why)
    case 'post': {
      const [post] = await opts.store.query([{ ids: [route.id], kinds: [POST] }])
      if (post === undefined) return fail(404, 'No such post here.')
      const replies = (await opts.store.query([{ kinds: [POST], '#e': [post.id], limit: MAX_REPLIES }])).reverse()
      const names = await authorNames(opts, [post, ...replies])
      const parent = parentId(post)
      const body = (parent === null ? '' : `<p><a href="/e/${parent}">↑ in reply to</a></p>`) +
        renderPost(post, names) +
        `<h1>${replies.length === 0 ? 'No replies' : `Replies (${replies.length}${replies.length === MAX_REPLIES ? '+' : ''})`}</h1>` +
        `<div class="replies">${replies.map(r => renderPost(r, names)).join('')}</div>`
      return page({ site, title: `Post by ${nameOf(names, post.pubkey)} · ${site}`, body })
    }
    default: {
      const cursor = readCursor(ctx)
      if (cursor === null) return fail(400, 'until and skip must be whole numbers.')
      const base: Filter = { kinds: [POST] }
      let heading = 'Newest posts'
      let path = '/'
      if (route.kind === 'tag') { base['#t'] = [...new Set([route.tag, route.tag.toLowerCase()])]; heading = `#${route.tag}`; path = `/t/${encodeURIComponent(route.tag)}` }
      if (route.kind === 'author') { base.authors = [route.pubkey]; path = `/p/${route.pubkey}` }
      const skip = Math.min(cursor.skip, Math.max(0, opts.maxLimit - size))
      const got = await opts.store.query([{ ...base, ...(cursor.until === null ? {} : { until: cursor.until }), limit: size + skip }])
      // skip only the posts of the `until` second already shown on the previous page
      let drop = 0
      while (drop < skip && got[drop]?.created_at === cursor.until) drop++
      const posts = got.slice(drop, drop + size)
      const names = await authorNames(opts, posts)
      if (route.kind === 'author') heading = `Posts by ${nameOf(names, route.pubkey, true)}`
      const list = posts.length === 0 ? '<p>No posts here yet.</p>' : posts.map(p => renderPost(p, names)).join('')
      const next = posts.length === size ? nextLink(path, posts, cursor.until, drop, size, opts.maxLimit) : ''
      return page({ site, title: `${heading} · ${site}`, body: `<h1>${escapeHtml(heading)}</h1>${list}${next}` })
    }
  }
}

function readCursor (ctx: Context): { until: number | null, skip: number } | null {
  const num = (v: unknown): number | null | undefined => {
    if (v === undefined) return null
    if (typeof v !== 'string' || !/^\d{1,12}$/.test(v)) return undefined
    return Number(v)
  }
  const until = num(ctx.query.until)
  const skip = num(ctx.query.skip)
  if (until === undefined || skip === undefined) return null
  return { until, skip: skip ?? 0 }
}

/**
 * Next page: posts up to the last one's second, skipping those of that second already shown.
 * When a single second holds more posts than one query may return, move past it.
 */
function nextLink (path: string, posts: NostrEvent[], until: number | null, dropped: number, size: number, maxLimit: number): string {
  const last = (posts[posts.length - 1] as NostrEvent).created_at
  let skip = posts.filter(p => p.created_at === last).length
  if (last === until) skip += dropped
  const q = skip + size <= maxLimit ? `until=${last}&skip=${skip}` : `until=${Math.max(0, last - 1)}`
  return `<nav class="pages"><a href="${escapeHtml(path)}?${q}">Older posts →</a></nav>`
}

/** NIP-10: the `reply` marker, else the last positional e tag. */
function parentId (e: NostrEvent): string | null {
  const es = e.tags.filter(t => t[0] === 'e' && typeof t[1] === 'string' && HEX64.test(t[1]))
  const marked = es.find(t => t[3] === 'reply') ?? es.find(t => t[3] === 'root')
  const pick = marked ?? (es.some(t => t[3] !== undefined && t[3] !== '') ? undefined : es[es.length - 1])
  return pick?.[1] ?? null
}

async function authorNames (opts: MirrorOptions, events: NostrEvent[]): Promise<Map<string, string>> {
  const authors = [...new Set(events.map(e => e.pubkey))]
  const names = new Map<string, string>()
  if (authors.length === 0) return names
  // replaceable: newest first, so the first profile per author wins
  const profiles = await opts.store.query([{ kinds: [0], authors, limit: Math.min(authors.length * 2, opts.maxLimit) }])
  for (const p of profiles) {
    if (names.has(p.pubkey)) continue
    const n = profileName(p)
    if (n !== null) names.set(p.pubkey, n)
  }
  return names
}

function nameOf (names: Map<string, string>, pubkey: string, escaped = false): string {
  const n = names.get(pubkey) ?? shortKey(pubkey)
  return escaped ? escapeHtml(n) : n
}

function renderPost (e: NostrEvent, names: Map<string, string>): string {
  const tags = [...new Set(e.tags.filter(t => t[0] === 't' && typeof t[1] === 'string' && t[1].length > 0 && t[1].length <= MAX_TAG).map(t => t[1] as string))].slice(0, MAX_TAGS_SHOWN)
  const tagLinks = tags.length === 0 ? '' : `<div class="tags">${tags.map(t => `<a href="/t/${escapeHtml(encodeURIComponent(t))}">#${escapeHtml(t)}</a>`).join('')}</div>`
  return `<article id="e-${e.id}"><div class="meta"><a href="/p/${e.pubkey}">${nameOf(names, e.pubkey, true)}</a> · <a href="/e/${e.id}">${formatTime(e.created_at)}</a></div>` +
    `<div class="text">${renderText(e.content)}</div>${tagLinks}</article>`
}
