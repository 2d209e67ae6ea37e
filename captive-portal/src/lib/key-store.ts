import { HEX64, type KeyValueStore } from './types.js'

/**
 * Where the phone keeps its key, readable without loading any crypto: a visitor's first load
 * carries no secp256k1 code, and a returning user's public key is known at once.
 */
export const KEY_STORAGE = 'outpost.sk'
export const PUBKEY_STORAGE = 'outpost.pk'
/** Private messages read, per person (lib/dm.ts): whom this key talked to goes with the key. */
export const READ_STORAGE = 'outpost.dm.read'

/** The stored public key, or null (none, or a key saved without it: the crypto must derive it). */
export function storedPubkey (store: KeyValueStore): string | null {
  const sk = store.getItem(KEY_STORAGE)
  const pk = store.getItem(PUBKEY_STORAGE)
  return sk !== null && pk !== null && HEX64.test(pk) ? pk : null
}

export function hasStoredKey (store: KeyValueStore): boolean {
  return store.getItem(KEY_STORAGE) !== null
}

export function forgetStoredKey (store: KeyValueStore): void {
  store.removeItem(KEY_STORAGE)
  store.removeItem(PUBKEY_STORAGE)
  store.removeItem(READ_STORAGE)
}

/** Pasted text that needs a password (NIP-49). */
export function looksEncrypted (input: string): boolean {
  return input.trim().toLowerCase().replace(/^nostr:/, '').startsWith('ncryptsec1')
}
