import type { Limits } from '../config/types.js'
import { MAX_SUB_ID_LENGTH } from './messages.js'

/** NIP-11 relay information document. */
export interface Nip11Doc {
  name: string
  description: string
  pubkey?: string
  contact?: string
  software: string
  version: string
  supported_nips: number[]
  limitation: {
    max_message_length: number
    max_subscriptions: number
    max_limit: number
    max_subid_length: number
    max_event_tags: number
    max_content_length: number
    /** Seconds into the future a created_at may be. */
    created_at_upper_limit: number
    auth_required: boolean
    payment_required: boolean
    restricted_writes: boolean
    default_limit: number
  }
}

/**
 * NIPs the whole node implements: 1 (relay protocol, here), 9 (deletion, in the store),
 * 11 (this document), 40 (expiration, in the store), 42 (AUTH: gift wraps, kind 1059, go only to
 * their recipient). 45 (COUNT) is answered with CLOSED.
 */
export const SUPPORTED_NIPS: readonly number[] = [1, 9, 11, 40, 42]

export interface Nip11Options {
  name: string
  description?: string
  /** The operator's hex pubkey, if any. */
  pubkey?: string
  contact?: string
  version: string
  limits: Limits
  supportedNips?: readonly number[]
  /** A relay-role node accepts no events from clients. */
  restrictedWrites?: boolean
}

export function buildNip11 (opts: Nip11Options): Nip11Doc {
  const { limits } = opts
  const doc: Nip11Doc = {
    name: opts.name,
    description: opts.description ?? 'An Outpost node: an offline Nostr relay on a local Wi-Fi hotspot',
    software: 'outpost',
    version: opts.version,
    supported_nips: [...(opts.supportedNips ?? SUPPORTED_NIPS)],
    limitation: {
      max_message_length: limits.maxFrameBytes,
      max_subscriptions: limits.maxSubscriptions,
      max_limit: limits.maxLimit,
      max_subid_length: MAX_SUB_ID_LENGTH,
      max_event_tags: limits.maxTags,
      max_content_length: limits.maxContentLength,
      created_at_upper_limit: limits.maxFutureSeconds,
      auth_required: false,
      payment_required: false,
      restricted_writes: opts.restrictedWrites === true,
      default_limit: limits.defaultLimit
    }
  }
  if (opts.pubkey !== undefined) doc.pubkey = opts.pubkey
  if (opts.contact !== undefined) doc.contact = opts.contact
  return doc
}
