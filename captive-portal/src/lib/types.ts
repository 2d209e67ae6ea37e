// the same NIP-01 shapes the node uses (types only: nothing of the node is bundled)
import type { NostrEvent, Filter } from '../../../node/src/events/types.js'
export type { NostrEvent, Filter }

/** What a template becomes once signed. */
export interface EventTemplate {
  kind: number
  created_at: number
  tags: string[][]
  content: string
}

/** The part of localStorage the app uses; tests pass a Map-backed one. */
export interface KeyValueStore {
  getItem: (key: string) => string | null
  setItem: (key: string, value: string) => void
  removeItem: (key: string) => void
}

export const HEX64 = /^[0-9a-f]{64}$/

let clockOffset = 0

/**
 * Phones at a festival can have a wrong clock; the node rejects events from too far in the
 * future and would sort wrong ones oddly. The app learns the node's time and signs with it.
 */
export function setClockOffset (seconds: number): void {
  clockOffset = Number.isFinite(seconds) && Math.abs(seconds) > 30 ? Math.round(seconds) : 0
}

export function now (): number {
  return Math.floor(Date.now() / 1000) + clockOffset
}

/** Other people in a group chat, at most: a message naming more is ignored (NIP-17 advises small groups). */
export const MAX_ROOM = 10

/** A room key from outside (a link, storage), or null: only sorted, unique pubkeys, 1 to MAX_ROOM of them. */
export function parseRoom (s: string): string | null {
  const ps = s.split(',')
  if (ps.length > MAX_ROOM || !ps.every((p, i) => HEX64.test(p) && (i === 0 || (ps[i - 1] as string) < p))) return null
  return s
}
