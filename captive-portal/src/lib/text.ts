/** Parsing of untrusted post text: hashtags and links. Output is data, never HTML. */

export type Token =
  | { type: 'text', text: string }
  | { type: 'link', text: string, href: string }
  | { type: 'tag', text: string, tag: string }

// a hashtag: '#' after start/space/punctuation, then letters, digits, _ or - (any script)
const TAG = String.raw`(?<![\p{L}\p{N}_&/#])#([\p{L}\p{N}_][\p{L}\p{N}_-]{0,63})`
const TAG_RE = new RegExp(TAG, 'gu')
const TOKEN_RE = new RegExp(String.raw`(https?:\/\/[^\s<>"'\x60]+)|` + TAG, 'giu')
const TRAILING = /[.,;:!?)\]}'"]+$/

/** A tag as stored in `t` tags: lower case, no '#', trimmed, at most 64 chars; '' when not usable. */
export function normalizeTag (raw: string): string {
  const t = raw.trim().replace(/^#+/, '').toLowerCase().replace(/-+$/, '')
  return /^[\p{L}\p{N}_][\p{L}\p{N}_-]{0,63}$/u.test(t) ? t : ''
}

/** The distinct hashtags of a text, normalized, in order of first appearance. */
export function extractHashtags (text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(TAG_RE)) {
    const t = normalizeTag(m[1] ?? '')
    if (t !== '' && !out.includes(t)) out.push(t)
  }
  return out
}

/** Tags typed by a user as "camping, #music medic": normalized and distinct, at most `max`. */
export function parseTagList (input: string, max = 20): string[] {
  const out: string[] = []
  for (const part of input.split(/[\s,]+/)) {
    const t = normalizeTag(part)
    if (t !== '' && !out.includes(t)) out.push(t)
  }
  return out.slice(0, max)
}

/** An http(s) URL safe to put in href, or null (other schemes, credentials, unparsable). */
export function safeHref (raw: string): string | null {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return null
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
  if (u.username !== '' || u.password !== '') return null
  return u.href
}

/** Splits text into plain text, links (http/https only) and hashtags, for rendering as text nodes. */
export function tokenize (text: string): Token[] {
  const out: Token[] = []
  let last = 0
  const push = (t: string): void => {
    if (t === '') return
    const prev = out[out.length - 1]
    if (prev?.type === 'text') prev.text += t
    else out.push({ type: 'text', text: t })
  }
  for (const m of text.matchAll(TOKEN_RE)) {
    const start = m.index ?? 0
    push(text.slice(last, start))
    const whole = m[0]
    if (m[1] !== undefined) {
      const trail = TRAILING.exec(whole)?.[0] ?? ''
      const url = whole.slice(0, whole.length - trail.length)
      const href = safeHref(url)
      if (href !== null) out.push({ type: 'link', text: url, href })
      else push(url)
      push(trail)
    } else {
      const tag = normalizeTag(m[2] ?? '')
      if (tag !== '') out.push({ type: 'tag', text: whole, tag })
      else push(whole)
    }
    last = start + whole.length
  }
  push(text.slice(last))
  return out
}
