import type { NostrEvent } from './types.js'
import { normalizeTag } from './text.js'

export interface Profile {
  pubkey: string
  name: string
  about: string
  picture: string
  tags: string[]
  created_at: number
  /** the other fields of the kind 0 content, kept when the profile is edited */
  raw: Record<string, unknown>
}

const str = (v: unknown, max: number): string => typeof v === 'string' ? v.slice(0, max) : ''

/** A profile from a kind 0 event; anything malformed becomes empty fields, never an error. */
export function parseProfile (ev: NostrEvent): Profile {
  let raw: Record<string, unknown> = {}
  try {
    const v: unknown = JSON.parse(ev.content)
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) raw = v as Record<string, unknown>
  } catch {}
  const tags: string[] = []
  for (const t of ev.tags) {
    if (t[0] !== 't' || t[1] === undefined) continue
    const n = normalizeTag(t[1])
    if (n !== '' && !tags.includes(n)) tags.push(n)
  }
  return {
    pubkey: ev.pubkey,
    name: (str(raw.display_name, 80) || str(raw.name, 80)).trim(),
    about: str(raw.about, 2000),
    picture: str(raw.picture, 2000),
    tags,
    created_at: ev.created_at,
    raw
  }
}

/** Case- and accent-insensitive substring match on name and about. */
export function matchesName (p: Profile, query: string): boolean {
  const q = fold(query.trim())
  if (q === '') return false
  return fold(p.name).includes(q) || fold(String(p.raw.name ?? '')).includes(q)
}

function fold (s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}

/** Short display form of a pubkey for people without a name. */
export function shortKey (pubkey: string): string {
  return pubkey.slice(0, 8) + '…'
}
