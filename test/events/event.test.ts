import t from 'tap'
import { computeId, pickEvent, serializeEvent, sha256Hex } from '../../node/src/events/event.js'
import type { NostrEvent } from '../../node/src/events/types.js'

const hex = (c: string, n: number): string => c.repeat(n)

t.test('serializeEvent gives the same text as JSON.stringify and the canonical id form', async t => {
  const contents = ['', 'hello', 'quote " backslash \\ newline \n tab \t', 'ünïcødé 🌲 \u2028 \u0000', '</script>']
  const tagSets: string[][][] = [[], [['t', 'camping']], [['e', hex('a', 64), 'wss://x', 'reply'], ['p', hex('b', 64)], ['d', 'a"b\\c']]]
  for (const content of contents) {
    for (const tags of tagSets) {
      for (const [createdAt, kind] of [[0, 0], [1_700_000_000, 1], [Number.MAX_SAFE_INTEGER, 65535], [-0, 30023]]) {
        const e: NostrEvent = { id: hex('c', 64), pubkey: hex('d', 64), created_at: createdAt as number, kind: kind as number, tags, content, sig: hex('e', 128) }
        const { json, canonical } = serializeEvent(e)
        t.equal(json, JSON.stringify(pickEvent(e)))
        t.same(JSON.parse(json), pickEvent(e))
        t.equal(canonical, JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]))
        t.equal(sha256Hex(canonical), computeId(e), 'the id hashes the canonical form')
      }
    }
  }
})
