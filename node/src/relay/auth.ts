import { randomBytes } from 'node:crypto'
import type { Filter, NostrEvent } from '../events/types.js'
import { pickEvent, shapeError } from '../events/event.js'
import { verifyEventSignature, type SignatureVerifier } from '../events/verify.js'

// NIP-42 AUTH, used for one thing: private messages. A NIP-59 gift wrap (kind 1059) hides its
// sender and content, but its `p` tag names the recipient; the relay serves a wrap only to a
// connection that proved it holds the recipient's key. Everything else stays open to all.

export const AUTH_KIND = 22242
export const GIFT_WRAP_KIND = 1059
/** How far an AUTH event's created_at may be from the node's clock, in seconds. */
export const AUTH_WINDOW_SECONDS = 600

export function newChallenge (): string {
  return randomBytes(16).toString('hex')
}

/**
 * Null when `v` is a valid AUTH event for this connection's `challenge`, signed now, naming this
 * relay (`host`: the Host the client connected to, compared when known); else the OK message.
 */
export function authError (v: unknown, challenge: string, host: string | null, verifier: SignatureVerifier, nowSeconds: number): string | null {
  const shape = shapeError(v)
  if (shape !== null) return `invalid: ${shape}`
  const e = pickEvent(v as NostrEvent)
  if (e.kind !== AUTH_KIND) return `invalid: AUTH takes a kind ${AUTH_KIND} event`
  if (Math.abs(e.created_at - nowSeconds) > AUTH_WINDOW_SECONDS) return 'invalid: created_at is too far from now'
  if (!e.tags.some(t => t[0] === 'challenge' && t[1] === challenge)) return 'invalid: wrong or missing challenge'
  const relay = e.tags.find(t => t[0] === 'relay')?.[1]
  if (relay === undefined) return 'invalid: missing relay tag'
  if (host !== null && hostOf(relay) !== host.toLowerCase()) return 'invalid: the relay tag names another relay'
  const sig = verifyEventSignature(verifier, e)
  if (sig !== 'ok') return sig === 'bad-id' ? 'invalid: event id does not match its serialization' : 'invalid: bad signature'
  return null
}

function hostOf (url: string): string | null {
  try {
    return new URL(url).host.toLowerCase()
  } catch {
    return null
  }
}

/** Whether `e` may go to a connection authenticated as `authed`: gift wraps only to their recipient. */
export function visibleTo (e: NostrEvent, authed: ReadonlySet<string>): boolean {
  if (e.kind !== GIFT_WRAP_KIND) return true
  return e.tags.some(t => t[0] === 'p' && t[1] !== undefined && authed.has(t[1]))
}

/**
 * A REQ that asks for gift wraps by kind before any AUTH, or for the wraps of a `#p` key this
 * connection has not authenticated as (another identity on the same phone): answered with a
 * challenge and CLOSED auth-required. Anything else is served with the wraps it may not see left out.
 */
export function needsAuth (filters: Filter[], authed: ReadonlySet<string>): boolean {
  return filters.some(f => f.kinds?.includes(GIFT_WRAP_KIND) === true &&
    (authed.size === 0 || (f['#p'] ?? []).some(p => !authed.has(p))))
}
