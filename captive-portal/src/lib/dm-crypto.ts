import { generateSecretKey, getEventHash, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { decrypt, encrypt, getConversationKey } from 'nostr-tools/nip44'
import type { NostrEvent } from './types.js'
import { signEvent } from './keys.js'
import { CHAT_KIND, MAX_MESSAGE, MAX_ROOM, SEAL_KIND, WRAP_KIND, isRumor, type Rumor } from './dm.js'

// NIP-17 private messages: a kind 14 rumor, sealed (kind 13, signed by the sender) and gift-wrapped
// (kind 1059, signed by a throwaway key), NIP-44 v2 both times. The cipher, the keys and the
// signatures are nostr-tools' (pure JS: no crypto.subtle, so plain http from the hotspot works);
// this module only puts them together as NIP-59 says. It does so itself rather than through
// nostr-tools/nip59 for one reason: that module dates seals and wraps from the phone's own clock,
// and a phone whose clock runs ahead would make wraps the node refuses as "in the future".
// Here they are dated from the node-corrected time the caller passes in.

/** NIP-59: seal and wrap times are random, up to two days in the past, so they do not tell when a message was sent. */
export const TWO_DAYS = 2 * 24 * 3600
/** The node's default content limit: a wrap longer than this would be refused. */
const MAX_WRAP_CONTENT = 32 * 1024

function randomPast (nowSeconds: number): number {
  return nowSeconds - Math.floor(Math.random() * TWO_DAYS)
}

/** The kind 14 chat message (unsigned, with its id) to one person or a group: one `p` tag each. */
export function chatRumor (sk: Uint8Array, to: string | string[], text: string, createdAt: number): Rumor {
  const tags = (typeof to === 'string' ? [to] : to).map(p => ['p', p])
  const r = { pubkey: getPublicKey(sk), created_at: createdAt, kind: CHAT_KIND, tags, content: text }
  return { ...r, id: getEventHash(r) }
}

export function seal (rumor: Rumor, sk: Uint8Array, recipient: string, nowSeconds: number): NostrEvent {
  const content = encrypt(JSON.stringify(rumor), getConversationKey(sk, recipient))
  return signEvent({ kind: SEAL_KIND, created_at: randomPast(nowSeconds), tags: [], content }, sk)
}

export function giftWrap (sealed: NostrEvent, recipient: string, nowSeconds: number): NostrEvent {
  const throwaway = generateSecretKey()
  const content = encrypt(JSON.stringify(sealed), getConversationKey(throwaway, recipient))
  return signEvent({ kind: WRAP_KIND, created_at: randomPast(nowSeconds), tags: [['p', recipient]], content }, throwaway)
}

export interface Wrapped { rumor: Rumor, /** the recipients' copies first, then the sender's own */ wraps: NostrEvent[] }

/**
 * A message to `to` (one person, or the others of a group), wrapped once for each recipient and
 * once for the sender, so the sender's other devices (or this key restored elsewhere) read the
 * conversation too.
 */
export function wrapMessage (sk: Uint8Array, to: string | string[], text: string, createdAt: number, nowSeconds: number): Wrapped {
  if (text.length === 0) throw new Error('empty message')
  if (text.length > MAX_MESSAGE) throw new Error(`message too long (max ${MAX_MESSAGE} characters)`)
  const others = typeof to === 'string' ? [to] : to
  if (others.length === 0 || others.length > MAX_ROOM) throw new Error(`a message goes to 1 to ${MAX_ROOM} people`)
  const rumor = chatRumor(sk, others, text, createdAt)
  const me = rumor.pubkey
  if (others.length > 1 && others.includes(me)) throw new Error('a group lists the others, not yourself')
  const wraps = [...new Set([...others, me])].map(p => giftWrap(seal(rumor, sk, p, nowSeconds), p, nowSeconds))
  if (wraps.some(w => w.content.length > MAX_WRAP_CONTENT)) throw new Error('message too long for this node')
  return { rumor, wraps }
}

/**
 * The chat message inside a gift wrap addressed to `sk`, or null for anything else: a wrap for
 * another key, a damaged or forged one (bad signature, a seal whose signer is not the rumor's
 * author), another kind. Never throws: wraps come from anyone. `keys`: conversation keys by
 * sender, kept between calls (they are derived from `sk`: one map per key).
 */
export function openWrap (wrap: NostrEvent, sk: Uint8Array, keys?: Map<string, Uint8Array>): Rumor | null {
  try {
    if (wrap.kind !== WRAP_KIND || wrap.content.length > MAX_WRAP_CONTENT * 2) return null
    const sealed: unknown = JSON.parse(decrypt(wrap.content, getConversationKey(sk, wrap.pubkey)))
    if (!isSeal(sealed) || !verifyEvent(sealed)) return null
    // the wrap's key is new every time; the seal's is the sender's: its conversation key can be kept
    let key = keys?.get(sealed.pubkey)
    if (key === undefined) {
      key = getConversationKey(sk, sealed.pubkey)
      keys?.set(sealed.pubkey, key)
    }
    const rumor: unknown = JSON.parse(decrypt(sealed.content, key))
    if (!isRumor(rumor) || rumor.pubkey !== sealed.pubkey || rumor.kind !== CHAT_KIND) return null
    const { id, pubkey, created_at: createdAt, kind, tags, content } = rumor
    const r = { pubkey, created_at: createdAt, kind, tags, content }
    return getEventHash(r) === id ? { ...r, id } : null
  } catch {
    return null
  }
}

function isSeal (v: unknown): v is NostrEvent {
  if (v === null || typeof v !== 'object') return false
  const e = v as Record<string, unknown>
  return e.kind === SEAL_KIND && typeof e.id === 'string' && typeof e.sig === 'string' && typeof e.pubkey === 'string' &&
    typeof e.content === 'string' && typeof e.created_at === 'number' && Array.isArray(e.tags)
}
