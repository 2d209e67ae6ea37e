/** A Nostr event as defined by NIP-01. */
export interface NostrEvent {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

/** A NIP-01 REQ filter. Tag filters are keyed `#<letter>`. */
export interface Filter {
  ids?: string[]
  authors?: string[]
  kinds?: number[]
  since?: number
  until?: number
  limit?: number
  [tag: `#${string}`]: string[] | undefined
}

/** Where an event came from: a phone/client connection, or a replicated log. */
export type EventSource = { type: 'client', ip?: string } | { type: 'log', log: string }
