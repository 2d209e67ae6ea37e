/** A client frame after the outer shape check (the filters and the event are still untrusted). */
export type ClientMessage =
  | { type: 'EVENT', event: unknown }
  | { type: 'REQ', subId: unknown, filters: unknown[] }
  | { type: 'CLOSE', subId: unknown }
  | { type: 'AUTH', event: unknown }
  | { type: 'COUNT', subId: unknown, filters: unknown[] }
  | { type: 'error', reason: string }

/** Longest subscription id, as NIP-01 allows. */
export const MAX_SUB_ID_LENGTH = 64

/** Parses one text frame. Never throws. */
export function parseClientMessage (text: string): ClientMessage {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return { type: 'error', reason: 'could not parse JSON' }
  }
  if (!Array.isArray(v) || v.length === 0) return { type: 'error', reason: 'message must be a non-empty JSON array' }
  const verb: unknown = v[0]
  switch (verb) {
    case 'EVENT':
      if (v.length !== 2) return { type: 'error', reason: 'EVENT takes exactly one event' }
      return { type: 'EVENT', event: v[1] }
    case 'REQ':
    case 'COUNT':
      if (v.length < 3) return { type: 'error', reason: `${verb} takes a subscription id and at least one filter` }
      return { type: verb, subId: v[1], filters: v.slice(2) }
    case 'AUTH':
      if (v.length !== 2) return { type: 'error', reason: 'AUTH takes exactly one event' }
      return { type: 'AUTH', event: v[1] }
    case 'CLOSE':
      if (v.length !== 2) return { type: 'error', reason: 'CLOSE takes exactly one subscription id' }
      return { type: 'CLOSE', subId: v[1] }
    default:
      return {
        type: 'error',
        reason: typeof verb === 'string' ? `unknown message type ${JSON.stringify(verb.slice(0, 16))}` : 'message type must be a string'
      }
  }
}

/** Null when subId is a valid subscription id, else the reason. */
export function subIdError (subId: unknown): string | null {
  if (typeof subId !== 'string' || subId.length === 0 || subId.length > MAX_SUB_ID_LENGTH) {
    return `subscription id must be a string of 1-${MAX_SUB_ID_LENGTH} characters`
  }
  return null
}

/**
 * Best-effort id of an EVENT frame too large to parse, so the client still gets an OK for it.
 * Inside JSON strings a quote is escaped, so an unescaped `"id":"…"` can only be the event key.
 */
export function sniffEventId (frame: Buffer): string {
  const head = frame.subarray(0, 16).toString('latin1')
  if (!/^\s*\[\s*"EVENT"/.test(head)) return ''
  const m = /"id"\s*:\s*"([0-9a-f]{64})"/.exec(frame.toString('latin1'))
  return m?.[1] ?? ''
}

/** Relay → client messages, serialized. An event is serialized once per fan-out. */
export const msg = {
  event: (subId: string, eventJson: string): string => `["EVENT",${JSON.stringify(subId)},${eventJson}]`,
  ok: (id: string, ok: boolean, message: string): string => JSON.stringify(['OK', id, ok, message]),
  eose: (subId: string): string => JSON.stringify(['EOSE', subId]),
  closed: (subId: string, message: string): string => JSON.stringify(['CLOSED', subId, message]),
  notice: (message: string): string => JSON.stringify(['NOTICE', message]),
  auth: (challenge: string): string => JSON.stringify(['AUTH', challenge])
}
