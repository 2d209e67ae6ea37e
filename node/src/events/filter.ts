import type { Filter, NostrEvent } from './types.js'
import type { Limits } from '../config/types.js'

/** Caps on untrusted filters (a REQ frame is already bounded by limits.maxFrameBytes). */
export interface FilterCaps {
  /** Most values in one ids/authors/kinds/#x array. */
  values: number
  /** Longest single `#x` tag value, in characters. */
  tagValueLength: number
}

export const FILTER_CAPS: FilterCaps = { values: 1000, tagValueLength: 1024 }

const HEX64 = /^[0-9a-f]{64}$/
const TAG_KEY = /^#[a-zA-Z]$/

function hexListError (key: string, v: unknown, caps: FilterCaps): string | null {
  if (!Array.isArray(v)) return `${key} must be an array`
  if (v.length > caps.values) return `${key} has more than ${caps.values} values`
  for (const x of v) {
    if (typeof x !== 'string' || !HEX64.test(x)) return `${key} must contain 64 lowercase hex characters each`
  }
  return null
}

function uintError (key: string, v: unknown): string | null {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? null : `${key} must be a non-negative integer`
}

/**
 * Checks an untrusted NIP-01 filter. Returns an error message (without the `invalid:` prefix)
 * or null when it is a valid filter.
 */
export function filterError (v: unknown, caps: FilterCaps = FILTER_CAPS): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'filter must be a JSON object'
  for (const [key, value] of Object.entries(v)) {
    let err: string | null
    switch (key) {
      case 'ids':
      case 'authors':
        err = hexListError(key, value, caps)
        break
      case 'kinds':
        if (!Array.isArray(value)) err = 'kinds must be an array'
        else if (value.length > caps.values) err = `kinds has more than ${caps.values} values`
        else err = value.every(k => Number.isSafeInteger(k) && k >= 0 && k <= 65535) ? null : 'kinds must contain integers 0-65535'
        break
      case 'since':
      case 'until':
      case 'limit':
        err = uintError(key, value)
        break
      default:
        if (!TAG_KEY.test(key)) {
          err = `unknown filter key ${JSON.stringify(key.slice(0, 32))}`
        } else if (!Array.isArray(value)) {
          err = `${key} must be an array`
        } else if (value.length > caps.values) {
          err = `${key} has more than ${caps.values} values`
        } else {
          err = value.every(s => typeof s === 'string' && s.length <= caps.tagValueLength)
            ? null
            : `${key} must contain strings of at most ${caps.tagValueLength} characters`
        }
    }
    if (err !== null) return err
  }
  return null
}

/** A copy of a valid filter with `limit` defaulted and clamped to the configured bounds. */
export function normalizeFilter (f: Filter, limits: Pick<Limits, 'maxLimit' | 'defaultLimit'>): Filter {
  const limit = f.limit === undefined ? limits.defaultLimit : Math.min(f.limit, limits.maxLimit)
  return { ...f, limit }
}

/** NIP-01 match of one filter (limit is ignored: it only bounds the stored query). */
export function matchFilter (f: Filter, e: NostrEvent): boolean {
  if (f.ids !== undefined && !f.ids.includes(e.id)) return false
  if (f.authors !== undefined && !f.authors.includes(e.pubkey)) return false
  if (f.kinds !== undefined && !f.kinds.includes(e.kind)) return false
  if (f.since !== undefined && e.created_at < f.since) return false
  if (f.until !== undefined && e.created_at > f.until) return false
  for (const key in f) {
    if (key.charCodeAt(0) !== 35 /* # */) continue
    const values = f[key as `#${string}`]
    if (values === undefined) continue
    const name = key.slice(1)
    let hit = false
    for (const t of e.tags) {
      if (t[0] === name && t[1] !== undefined && values.includes(t[1])) { hit = true; break }
    }
    if (!hit) return false
  }
  return true
}

/** True when the event matches at least one of the filters. */
export function matchAny (filters: readonly Filter[], e: NostrEvent): boolean {
  for (const f of filters) if (matchFilter(f, e)) return true
  return false
}

type Matcher = (e: NostrEvent) => boolean

const SET_THRESHOLD = 16

function member<T> (values: readonly T[]): (x: T) => boolean {
  if (values.length > SET_THRESHOLD) {
    const set = new Set(values)
    return x => set.has(x)
  }
  return x => values.includes(x)
}

/**
 * Precompiles one filter into a predicate with the same semantics as matchFilter, using sets
 * for long lists (a follow feed filters hundreds of authors). For live fan-out.
 */
export function compileFilter (f: Filter): Matcher {
  const checks: Matcher[] = []
  if (f.ids !== undefined) { const has = member(f.ids); checks.push(e => has(e.id)) }
  if (f.authors !== undefined) { const has = member(f.authors); checks.push(e => has(e.pubkey)) }
  if (f.kinds !== undefined) { const has = member(f.kinds); checks.push(e => has(e.kind)) }
  const { since, until } = f
  if (since !== undefined) checks.push(e => e.created_at >= since)
  if (until !== undefined) checks.push(e => e.created_at <= until)
  for (const key of Object.keys(f)) {
    if (key.charCodeAt(0) !== 35) continue
    const values = f[key as `#${string}`]
    if (values === undefined) continue
    const name = key.slice(1)
    const has = member(values)
    checks.push(e => {
      for (const t of e.tags) if (t[0] === name && t[1] !== undefined && has(t[1])) return true
      return false
    })
  }
  return e => {
    for (const check of checks) if (!check(e)) return false
    return true
  }
}

/** Precompiled matchAny. */
export function compileFilters (filters: readonly Filter[]): Matcher {
  const matchers = filters.map(compileFilter)
  return e => {
    for (const m of matchers) if (m(e)) return true
    return false
  }
}
