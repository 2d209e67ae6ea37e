import type { NostrEvent } from '../events/types.js'

/** Text for HTML element content and attribute values (always double-quoted). */
export function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi
const TRAILING = /[.,;:!?)\]}]+$/

/** Untrusted text as escaped HTML; only http(s) URLs become links (new tab, no referrer, no opener). */
export function renderText (text: string): string {
  let out = ''
  let last = 0
  for (const m of text.matchAll(URL_RE)) {
    const start = m.index ?? 0
    const url = m[0].replace(TRAILING, '')
    out += escapeHtml(text.slice(last, start))
    out += `<a href="${escapeHtml(url)}" rel="noopener noreferrer nofollow ugc" target="_blank">${escapeHtml(url)}</a>`
    last = start + url.length
  }
  return out + escapeHtml(text.slice(last))
}

/** `2026-11-21 05:04 UTC`; '' for a time a Date cannot hold. */
export function formatTime (seconds: number): string {
  const d = new Date(seconds * 1000)
  if (Number.isNaN(d.getTime())) return ''
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

const NAME_MAX = 48

/** A display name from a kind-0 profile: display_name, else name; control characters dropped. */
export function profileName (profile: NostrEvent | undefined): string | null {
  if (profile === undefined) return null
  let v: unknown
  try { v = JSON.parse(profile.content) } catch { return null }
  if (v === null || typeof v !== 'object') return null
  const o = v as Record<string, unknown>
  for (const k of ['display_name', 'name']) {
    const s = o[k]
    if (typeof s !== 'string') continue
    // eslint-disable-next-line no-control-regex
    const clean = s.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim()
    if (clean.length > 0) return clean.length > NAME_MAX ? clean.slice(0, NAME_MAX) + '…' : clean
  }
  return null
}

export function shortKey (hex: string): string {
  return `${hex.slice(0, 8)}…${hex.slice(-4)}`
}

export function page (opts: { site: string, title: string, body: string }): string {
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="referrer" content="no-referrer">' +
    `<title>${escapeHtml(opts.title)}</title><link rel="stylesheet" href="/mirror.css"></head>` +
    `<body><header><a class="site" href="/">${escapeHtml(opts.site)}</a> <span class="ro">read-only mirror</span></header>` +
    `<main>${opts.body}</main></body></html>\n`
}

export const MIRROR_CSS = `body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:42rem;padding:0 1rem;color:#222;background:#fafafa}
header{padding:1rem 0;border-bottom:1px solid #ddd;margin-bottom:1rem}
.site{font-weight:700;color:#222;text-decoration:none}.ro{color:#777;font-size:.85em}
article{background:#fff;border:1px solid #e4e4e4;border-radius:6px;padding:.75rem 1rem;margin:0 0 .75rem}
.meta{font-size:.85em;color:#666;margin-bottom:.35rem}.meta a{color:#444}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.tags a{font-size:.85em;margin-right:.5rem;color:#0a58ca}
nav.pages{margin:1rem 0 2rem}h1{font-size:1.25rem}
.replies{margin-left:1rem;border-left:3px solid #ddd;padding-left:.75rem}
`
