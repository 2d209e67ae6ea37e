import * as crypto from 'node:crypto'
import type { NostrEvent } from './types.js'

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object per call
const oneShot = typeof crypto.hash === 'function'

/** sha256 of a UTF-8 string, lowercase hex. */
export const sha256Hex: (s: string) => string = oneShot
  ? s => crypto.hash('sha256', s, 'hex')
  : s => crypto.createHash('sha256').update(s).digest('hex')

/** sha256 of a UTF-8 string. */
export const sha256: (s: string) => Buffer = oneShot
  ? s => crypto.hash('sha256', s, 'buffer')
  : s => crypto.createHash('sha256').update(s).digest()

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

/**
 * For a shape-checked event: the JSON that is stored (NIP-01 fields only, in this order; the
 * same text as JSON.stringify(pickEvent(e))) and the canonical serialization its id hashes,
 * sharing one serialization of tags and content. id, pubkey and sig are hex and created_at
 * and kind safe integers (shapeError), so they need no escaping.
 */
export function serializeEvent (e: NostrEvent): { json: string, canonical: string } {
  const tags = JSON.stringify(e.tags)
  const content = JSON.stringify(e.content)
  return {
    json: `{"id":"${e.id}","pubkey":"${e.pubkey}","created_at":${e.created_at},"kind":${e.kind},"tags":${tags},"content":${content},"sig":"${e.sig}"}`,
    canonical: `[0,"${e.pubkey}",${e.created_at},${e.kind},${tags},${content}]`
  }
}

/** sha256 of the NIP-01 canonical serialization, lowercase hex. */
export function computeId (e: Omit<NostrEvent, 'id' | 'sig'>): string {
  const canonical = JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content])
  return sha256Hex(canonical)
}

/**
 * Checks the NIP-01 shape of an untrusted value. Returns an error message (without the
 * `invalid:` prefix) or null when the shape is right. Does not check id or signature.
 */
export function shapeError (v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'event must be a JSON object'
  const e = v as Record<string, unknown>
  if (typeof e.id !== 'string' || !HEX64.test(e.id)) return 'id must be 64 lowercase hex characters'
  if (typeof e.pubkey !== 'string' || !HEX64.test(e.pubkey)) return 'pubkey must be 64 lowercase hex characters'
  if (typeof e.sig !== 'string' || !HEX128.test(e.sig)) return 'sig must be 128 lowercase hex characters'
  if (!Number.isSafeInteger(e.created_at) || (e.created_at as number) < 0) return 'created_at must be a non-negative integer'
  if (!Number.isSafeInteger(e.kind) || (e.kind as number) < 0 || (e.kind as number) > 65535) return 'kind must be an integer 0-65535'
  if (typeof e.content !== 'string') return 'content must be a string'
  if (!Array.isArray(e.tags)) return 'tags must be an array'
  for (const t of e.tags) {
    if (!Array.isArray(t) || t.length === 0) return 'each tag must be a non-empty array'
    for (const s of t) if (typeof s !== 'string') return 'tag elements must be strings'
  }
  return null
}

/** Copies only the NIP-01 fields, so extra properties sent by a client are never stored. */
export function pickEvent (e: NostrEvent): NostrEvent {
  return { id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }
}

export const isReplaceable = (kind: number): boolean => kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)
export const isEphemeral = (kind: number): boolean => kind >= 20000 && kind < 30000
export const isAddressable = (kind: number): boolean => kind >= 30000 && kind < 40000

/** The `d` tag value of an addressable event ('' when absent). */
export function dTag (e: NostrEvent): string {
  for (const t of e.tags) if (t[0] === 'd') return t[1] ?? ''
  return ''
}

/** NIP-40 expiration timestamp, or null. */
export function expiration (e: NostrEvent): number | null {
  for (const t of e.tags) {
    if (t[0] === 'expiration' && t[1] !== undefined && /^\d+$/.test(t[1])) return Number(t[1])
  }
  return null
}

/** Replaceable/addressable address: `kind:pubkey:d` (d is '' for replaceable kinds), or null. */
export function replaceKey (e: NostrEvent): string | null {
  if (isReplaceable(e.kind)) return `${e.kind}:${e.pubkey}:`
  if (isAddressable(e.kind)) return `${e.kind}:${e.pubkey}:${dTag(e)}`
  return null
}

/** NIP-01 ordering for replaceable heads: newer created_at wins; on a tie the lowest id wins. */
export function newerThan (a: Pick<NostrEvent, 'created_at' | 'id'>, b: Pick<NostrEvent, 'created_at' | 'id'>): boolean {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at
  return a.id < b.id
}
