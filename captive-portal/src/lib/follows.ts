import { HEX64, type NostrEvent } from './types.js'

/** The pubkeys a kind 3 follow list names, in order, distinct. */
export function followedPubkeys (contacts: Pick<NostrEvent, 'tags'> | null | undefined): string[] {
  const out: string[] = []
  for (const t of contacts?.tags ?? []) {
    const pk = t[1]
    if (t[0] === 'p' && pk !== undefined && HEX64.test(pk) && !out.includes(pk)) out.push(pk)
  }
  return out
}

/** Tags of a follow list with `pubkey` added; other tags (relays, hashtags, petnames) kept as they were. */
export function addFollow (tags: string[][], pubkey: string): string[][] {
  if (!HEX64.test(pubkey)) throw new Error('not a public key')
  if (tags.some(t => t[0] === 'p' && t[1] === pubkey)) return tags.map(t => [...t])
  return [...tags.map(t => [...t]), ['p', pubkey]]
}

/** Tags of a follow list without `pubkey`; everything else kept. */
export function removeFollow (tags: string[][], pubkey: string): string[][] {
  return tags.filter(t => !(t[0] === 'p' && t[1] === pubkey)).map(t => [...t])
}
