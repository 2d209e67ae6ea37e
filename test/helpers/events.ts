import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import type { NostrEvent } from '../../node/src/events/types.js'

export interface Signer { sk: Uint8Array, pubkey: string, sign: (t: { kind?: number, content?: string, tags?: string[][], created_at?: number }) => NostrEvent }

/** A fresh identity that signs real NIP-01 events. */
export function signer (): Signer {
  const sk = generateSecretKey()
  return {
    sk,
    pubkey: getPublicKey(sk),
    sign: t => {
      const e = finalizeEvent({ kind: t.kind ?? 1, content: t.content ?? '', tags: t.tags ?? [], created_at: t.created_at ?? Math.floor(Date.now() / 1000) }, sk)
      return { id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }
    }
  }
}
