import { HEX64, MAX_ROOM, parseRoom, type KeyValueStore, type NostrEvent } from './types.js'
import { READ_STORAGE } from './key-store.js'
export { READ_STORAGE, MAX_ROOM, parseRoom }

// The plain half of private messages (NIP-17): what a decrypted message is, who it is with,
// conversations and read marks. No crypto here: that is lib/dm-crypto.ts, loaded on demand.

export const CHAT_KIND = 14
export const SEAL_KIND = 13
export const WRAP_KIND = 1059
/** Characters per message: even in 4-byte characters it fits, twice encrypted, in the node's 32K content limit. */
export const MAX_MESSAGE = 2000

/** An unsigned kind 14 as it comes out of its seal (NIP-59 "rumor"): an event without `sig`. */
export type Rumor = Omit<NostrEvent, 'sig'>

export function isRumor (v: unknown): v is Rumor {
  if (v === null || typeof v !== 'object') return false
  const r = v as Record<string, unknown>
  return typeof r.id === 'string' && typeof r.pubkey === 'string' && HEX64.test(r.pubkey) && Number.isSafeInteger(r.created_at) &&
    typeof r.kind === 'number' && typeof r.content === 'string' && Array.isArray(r.tags) &&
    r.tags.every(t => Array.isArray(t) && t.every(x => typeof x === 'string'))
}

/**
 * The other person of a one-to-one chat message, or null: not kind 14, a group chat, or a
 * message that does not involve `me` (a sender can only put a rumor in a seal under their own
 * key, so a message from someone else must name exactly `me`). A note to self has peer `me`.
 */
export function peerOf (r: Rumor, me: string): string | null {
  if (r.kind !== CHAT_KIND) return null
  const ps = [...new Set(r.tags.filter(t => t[0] === 'p' && HEX64.test(t[1] ?? '')).map(t => t[1] as string))]
  if (r.pubkey === me) {
    const others = ps.filter(p => p !== me)
    if (others.length === 1) return others[0] as string
    return others.length === 0 && ps.length === 1 ? me : null
  }
  return ps.length === 1 && ps[0] === me ? r.pubkey : null
}

/**
 * The chat room of a message (NIP-17: the sender plus the `p` tags; a new set is a new room),
 * as a key: the participants other than `me`, sorted, joined by commas. A one-to-one chat's key
 * is the other person's pubkey, a note to self's is `me`. null: not kind 14, does not involve
 * `me` (a sender can only seal under their own key, so someone else's message must name `me`),
 * or more than MAX_ROOM others. Junk and repeated `p` tags do not count.
 */
export function roomOf (r: Rumor, me: string): string | null {
  if (r.kind !== CHAT_KIND) return null
  const ps = new Set(r.tags.filter(t => t[0] === 'p' && HEX64.test(t[1] ?? '')).map(t => t[1] as string))
  if (r.pubkey !== me && !ps.has(me)) return null
  if (r.pubkey === me && ps.size === 0) return null
  ps.add(r.pubkey)
  ps.delete(me)
  if (ps.size > MAX_ROOM) return null
  return ps.size === 0 ? me : [...ps].sort().join(',')
}

/** The people of a room key (see roomOf). */
export function roomMembers (room: string): string[] {
  return room.split(',')
}

/** Oldest first; same second: by id, so every phone shows the same order. */
export function compareMessages (a: Rumor, b: Rumor): number {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export interface Conversation {
  /** the room key (roomOf): for a one-to-one chat, the other person's pubkey */
  peer: string
  /** the people in it other than me (just `me` for notes to self) */
  members: string[]
  /** oldest first */
  messages: Rumor[]
  last: Rumor
  /** messages from the peer newer than the read mark */
  unread: number
}

export type ReadMarks = Record<string, number>

/** Messages grouped by room, the conversation with the newest message first. */
export function groupConversations (rumors: Iterable<Rumor>, me: string, read: ReadMarks): Conversation[] {
  const by = new Map<string, Rumor[]>()
  const ids = new Set<string>()
  for (const r of rumors) {
    const peer = roomOf(r, me)
    if (peer === null || ids.has(r.id)) continue
    ids.add(r.id)
    let list = by.get(peer)
    if (list === undefined) by.set(peer, list = [])
    list.push(r)
  }
  const out: Conversation[] = []
  for (const [peer, messages] of by) {
    messages.sort(compareMessages)
    const mark = read[peer] ?? 0
    const unread = messages.filter(m => m.pubkey !== me && m.created_at > mark).length
    out.push({ peer, members: roomMembers(peer), messages, last: messages[messages.length - 1] as Rumor, unread })
  }
  return out.sort((a, b) => compareMessages(b.last, a.last))
}

/**
 * created_at of a new message: the (node-corrected) time, but after the conversation's newest
 * message, so a quick reply never sorts before what it answers. Bounded: a peer's clock far
 * ahead does not drag this phone's messages into the future.
 */
export function nextCreatedAt (nowSeconds: number, last: Rumor | undefined): number {
  if (last === undefined || last.created_at < nowSeconds || last.created_at >= nowSeconds + 600) return nowSeconds
  return last.created_at + 1
}

export function loadReadMarks (store: KeyValueStore): ReadMarks {
  try {
    const v: unknown = JSON.parse(store.getItem(READ_STORAGE) ?? '{}')
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return {}
    const out: ReadMarks = {}
    for (const [k, n] of Object.entries(v)) if (parseRoom(k) !== null && Number.isSafeInteger(n)) out[k] = n as number
    return out
  } catch {
    return {}
  }
}

/** Marks a conversation read up to `ts` (never backwards); persisted. */
export function markRead (store: KeyValueStore, marks: ReadMarks, peer: string, ts: number): ReadMarks {
  if ((marks[peer] ?? 0) >= ts) return marks
  const next = { ...marks, [peer]: ts }
  try {
    store.setItem(READ_STORAGE, JSON.stringify(next))
  } catch {
    // storage full: the mark still holds for this session
  }
  return next
}
