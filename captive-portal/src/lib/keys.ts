import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { decode, nsecEncode, npubEncode } from 'nostr-tools/nip19'
import type { EventTemplate, KeyValueStore, NostrEvent } from './types.js'
import { KEY_STORAGE, PUBKEY_STORAGE, forgetStoredKey, looksEncrypted } from './key-store.js'

// The crypto half of key handling (secp256k1, bech32): the app loads this module on demand.
/** scrypt cost 2^16 as NIP-49 suggests is 64 MiB: too much for old phones; 2^14 is 16 MiB. */
export const NCRYPTSEC_LOGN = 14

export class KeyError extends Error {
  constructor (message: string, readonly code: 'EMPTY' | 'FORMAT' | 'PASSWORD_NEEDED' | 'BAD_PASSWORD') {
    super(message)
    this.name = 'KeyError'
  }
}

export interface Identity { sk: Uint8Array, pubkey: string }

export function newIdentity (): Identity {
  const sk = generateSecretKey()
  return { sk, pubkey: getPublicKey(sk) }
}

export function identityOf (sk: Uint8Array): Identity {
  return { sk, pubkey: getPublicKey(sk) }
}

export function nsecOf (sk: Uint8Array): string {
  return nsecEncode(sk)
}

export function npubOf (pubkey: string): string {
  return npubEncode(pubkey)
}

export const needsPassword = looksEncrypted

/** A signed event (id, sig) from a template. */
export function signEvent (tpl: EventTemplate, sk: Uint8Array): NostrEvent {
  const e = finalizeEvent(tpl, sk)
  return { id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }
}

/** NIP-49 export; loads scrypt and the cipher only when asked. */
export async function encryptKey (sk: Uint8Array, password: string, logn = NCRYPTSEC_LOGN): Promise<string> {
  if (password.length === 0) throw new KeyError('Choose a password.', 'PASSWORD_NEEDED')
  const { encrypt } = await import('nostr-tools/nip49')
  return encrypt(sk, password.normalize('NFKC'), logn)
}

/**
 * A secret key from what a user pasted: nsec1…, ncryptsec1… (with its password) or 64 hex chars.
 * Throws KeyError with a message fit to show.
 */
export async function parseSecret (input: string, password = ''): Promise<Uint8Array> {
  const s = input.trim().replace(/^nostr:/i, '')
  if (s === '') throw new KeyError('Paste your key first.', 'EMPTY')
  const lower = s.toLowerCase()
  if (/^[0-9a-f]{64}$/.test(lower)) return checked(hexToBytes(lower))
  if (lower.startsWith('npub1')) throw new KeyError('That is a public key (npub). Paste the secret key: it starts with nsec1 or ncryptsec1.', 'FORMAT')
  if (lower.startsWith('ncryptsec1')) {
    if (password === '') throw new KeyError('This key is protected: enter its password.', 'PASSWORD_NEEDED')
    const { decrypt } = await import('nostr-tools/nip49')
    try {
      return checked(decrypt(lower, password.normalize('NFKC')))
    } catch {
      throw new KeyError('Wrong password, or the key text is damaged.', 'BAD_PASSWORD')
    }
  }
  if (lower.startsWith('nsec1')) {
    try {
      const d = decode(lower)
      if (d.type === 'nsec') return checked(d.data)
    } catch {}
    throw new KeyError('This nsec key is damaged: check that you copied all of it.', 'FORMAT')
  }
  throw new KeyError('Not a key: it should start with nsec1 or ncryptsec1.', 'FORMAT')
}

function checked (sk: Uint8Array): Uint8Array {
  try {
    getPublicKey(sk)
    return sk
  } catch {
    throw new KeyError('This is not a valid secret key.', 'FORMAT')
  }
}

export function saveKey (store: KeyValueStore, sk: Uint8Array): void {
  store.setItem(KEY_STORAGE, bytesToHex(sk))
  store.setItem(PUBKEY_STORAGE, getPublicKey(sk))
}

export function loadKey (store: KeyValueStore): Identity | null {
  const hex = store.getItem(KEY_STORAGE)
  if (hex === null || !/^[0-9a-f]{64}$/.test(hex)) return null
  try {
    return identityOf(hexToBytes(hex))
  } catch {
    return null
  }
}

export const forgetKey = forgetStoredKey

function bytesToHex (b: Uint8Array): string {
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}

function hexToBytes (hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
