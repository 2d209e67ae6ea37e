import { existsSync } from 'node:fs'
import { packageRoot } from '../paths.js'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import { computeId } from './event.js'
import type { NostrEvent } from './types.js'

/** BIP-340 Schnorr verification of Nostr event signatures. */
export interface SignatureVerifier {
  readonly backend: 'native' | 'js'
  /** `id` is the 32-byte message (the event id), all hex. Malformed input is false, never a throw. */
  verify (id: string, pubkey: string, sig: string): boolean
  verifyMany (items: ReadonlyArray<{ id: string, pubkey: string, sig: string }>): boolean[]
  /**
   * Verifies `n` packed records of 128 bytes (32 msg | 32 x-only pubkey | 64 sig), one result
   * byte per record (1 valid / 0 invalid). Used by the worker pool to avoid hex/clone costs.
   */
  verifyPacked (records: Uint8Array, n: number): Uint8Array
}

export interface VerifyLogger { warn: (...a: any[]) => void }

/** The addon built from native/src/schnorr.c. */
export interface NativeSchnorr {
  verify (msg32: Uint8Array, pubkey32: Uint8Array, sig64: Uint8Array): boolean
  verifyBatch (records: Uint8Array, n: number): Uint8Array
  sign (msg32: Uint8Array, seckey32: Uint8Array, aux32?: Uint8Array): Buffer
}

export const RECORD_SIZE = 128

const ADDON_REL = join('native', 'build', 'Release', 'outpost_schnorr.node')

/** The addon under the package root (this file runs from node/src/events in tests and dist/events when built). */
export function nativeAddonPath (): string | null {
  const p = join(packageRoot(), ADDON_REL)
  return existsSync(p) ? p : null
}

let nativeCache: { addon: NativeSchnorr | null, error: unknown } | undefined

/** Loads the native addon once per thread; null (with the reason in `error`) when unavailable. */
export function loadNativeAddon (): { addon: NativeSchnorr | null, error: unknown } {
  if (nativeCache !== undefined) return nativeCache
  try {
    const path = nativeAddonPath()
    if (path === null) throw new Error(`${ADDON_REL} not found (run npm run build:native)`)
    const addon = createRequire(import.meta.url)(path) as NativeSchnorr
    if (typeof addon.verify !== 'function' || typeof addon.verifyBatch !== 'function') throw new Error('addon has no verify/verifyBatch')
    nativeCache = { addon, error: null }
  } catch (error) {
    nativeCache = { addon: null, error }
  }
  return nativeCache
}

/**
 * Decodes the three hex fields into `buf` at `off` (128 bytes). Buffer#write stops at the first
 * non-hex pair, so "exactly N bytes written" doubles as the hex check.
 */
export function packRecord (buf: Buffer, off: number, id: unknown, pubkey: unknown, sig: unknown): boolean {
  return typeof id === 'string' && id.length === 64 &&
    typeof pubkey === 'string' && pubkey.length === 64 &&
    typeof sig === 'string' && sig.length === 128 &&
    buf.write(id, off, 'hex') === 32 &&
    buf.write(pubkey, off + 32, 'hex') === 32 &&
    buf.write(sig, off + 64, 'hex') === 64
}

/**
 * Packs items into a fresh (transferable, non-pooled) buffer. Malformed records are zeroed and
 * flagged in `ok`; callers must AND results with `ok`.
 */
export function packItems (items: ReadonlyArray<{ id: string, pubkey: string, sig: string }>, start = 0, end = items.length): { records: Buffer, ok: Uint8Array } {
  const n = end - start
  const records = Buffer.from(new ArrayBuffer(n * RECORD_SIZE))
  const ok = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const it = items[start + i]
    const off = i * RECORD_SIZE
    if (it !== undefined && it !== null && packRecord(records, off, it.id, it.pubkey, it.sig)) ok[i] = 1
    else records.fill(0, off, off + RECORD_SIZE) // zero pubkey never parses: stays invalid
  }
  return { records, ok }
}

function jsVerifyRaw (msg: Uint8Array, pub: Uint8Array, sig: Uint8Array): boolean {
  try {
    return schnorr.verify(sig, msg, pub)
  } catch {
    return false
  }
}

function makeVerifier (backend: 'native' | 'js', raw: (msg: Uint8Array, pub: Uint8Array, sig: Uint8Array) => boolean, batch: (records: Uint8Array, n: number) => Uint8Array): SignatureVerifier {
  // One scratch buffer per verifier: verify() is synchronous, so reuse is safe and avoids 3 allocations per call.
  const scratch = Buffer.alloc(RECORD_SIZE)
  const msg = scratch.subarray(0, 32)
  const pub = scratch.subarray(32, 64)
  const sig = scratch.subarray(64, 128)
  const verifyPacked = (records: Uint8Array, n: number): Uint8Array => {
    if (!Number.isSafeInteger(n) || n < 0 || records.length < n * RECORD_SIZE) throw new TypeError('records must hold n * 128 bytes')
    return batch(records, n)
  }
  return {
    backend,
    verify (id, pubkey, s) {
      return packRecord(scratch, 0, id, pubkey, s) && raw(msg, pub, sig)
    },
    verifyMany (items) {
      if (items.length === 0) return []
      const { records, ok } = packItems(items)
      const res = batch(records, items.length)
      const out = new Array<boolean>(items.length)
      for (let i = 0; i < items.length; i++) out[i] = ok[i] === 1 && res[i] === 1
      return out
    },
    verifyPacked
  }
}

function jsBatch (records: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * RECORD_SIZE
    out[i] = jsVerifyRaw(records.subarray(o, o + 32), records.subarray(o + 32, o + 64), records.subarray(o + 64, o + 128)) ? 1 : 0
  }
  return out
}

/**
 * Returns the libsecp256k1 verifier when the addon is built and loads, otherwise the pure-JS
 * one (~30x slower), logging why via `log.warn`.
 */
export function loadVerifier (opts: { log?: VerifyLogger, forceJs?: boolean } = {}): SignatureVerifier {
  if (opts.forceJs !== true) {
    const { addon, error } = loadNativeAddon()
    if (addon !== null) {
      return makeVerifier('native', (m, p, s) => addon.verify(m, p, s), (r, n) => addon.verifyBatch(r, n))
    }
    opts.log?.warn({ err: error }, 'native Schnorr verifier unavailable, using pure JS (~30x slower): install libsecp256k1-dev and run npm run build:native')
  }
  return makeVerifier('js', jsVerifyRaw, jsBatch)
}

/** Full NIP-01 check: the id must be the hash of the event, then the signature must match it. */
export function verifyEventSignature (v: SignatureVerifier, e: NostrEvent): 'ok' | 'bad-id' | 'bad-sig' {
  let id: string
  try {
    id = computeId(e)
  } catch {
    return 'bad-id'
  }
  if (id !== e.id) return 'bad-id'
  return v.verify(e.id, e.pubkey, e.sig) ? 'ok' : 'bad-sig'
}
