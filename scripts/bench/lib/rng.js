// Deterministic randomness for reproducible data sets.
import { createHash } from 'node:crypto'

/** mulberry32: fast seeded PRNG in [0, 1). */
export function makeRng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Zipf(s) sampler over ranks 0..n-1 (rank 0 is the most frequent). */
export function zipf (n, s, rnd) {
  const cum = new Float64Array(n)
  let total = 0
  for (let i = 0; i < n; i++) { total += 1 / Math.pow(i + 1, s); cum[i] = total }
  return () => {
    const x = rnd() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cum[mid] < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** n deterministic bytes as hex, from a label. */
export function hexFrom (label, bytes = 32) {
  let out = ''
  for (let i = 0; out.length < bytes * 2; i++) out += createHash('sha256').update(`${label}/${i}`).digest('hex')
  return out.slice(0, bytes * 2)
}
