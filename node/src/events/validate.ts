import type { Limits } from '../config/types.js'
import type { NostrEvent } from './types.js'
import { pickEvent, serializeEvent, sha256Hex, shapeError } from './event.js'

export type Validation = { ok: true, event: NostrEvent, json: string } | { ok: false, message: string }

/**
 * Everything about an untrusted event except its signature: NIP-01 shape, id, and the node's
 * limits. Returns the canonical JSON that is stored (extra fields dropped). `nowSeconds` null:
 * no bound on created_at (a replicated event, dated under its origin node's clock).
 */
export function validateEvent (v: unknown, limits: Limits, nowSeconds: number | null): Validation {
  const shape = shapeError(v)
  if (shape !== null) return { ok: false, message: `invalid: ${shape}` }
  const event = pickEvent(v as NostrEvent)
  if (event.tags.length > limits.maxTags) return { ok: false, message: `invalid: too many tags (max ${limits.maxTags})` }
  if (event.content.length > limits.maxContentLength) return { ok: false, message: `invalid: content too long (max ${limits.maxContentLength} characters)` }
  if (nowSeconds !== null && event.created_at > nowSeconds + limits.maxFutureSeconds) return { ok: false, message: `invalid: created_at is more than ${limits.maxFutureSeconds} seconds in the future` }
  const { json, canonical } = serializeEvent(event)
  if (Buffer.byteLength(json) > limits.maxEventBytes) return { ok: false, message: `invalid: event too large (max ${limits.maxEventBytes} bytes)` }
  if (sha256Hex(canonical) !== event.id) return { ok: false, message: 'invalid: event id does not match the sha256 of its serialization' }
  return { ok: true, event, json }
}
