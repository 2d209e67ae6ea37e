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

export function now (): number {
  return Math.floor(Date.now() / 1000)
}
