// Realistic Nostr traffic: Zipf-active authors, mostly kind 1 with some 0/3/7, created_at
// spread over 30 days (in order, like a log), skewed `t` hashtags, replies and reactions.
import { makeRng, zipf } from './rng.js'

const WORDS = ('the a and to of in is it that for on you this with be are have not at was ' +
  'but so what just like all about out get one can time day good new now people see know ' +
  'think today love work still make back here really more going night water radio mesh ' +
  'offline village market school bus rain sun field news help thanks morning friend ').trim().split(/\s+/)

const TOP_TAGS = ['nostr', 'news', 'music', 'photography', 'food', 'art', 'bitcoin', 'football',
  'weather', 'market', 'school', 'health', 'travel', 'farming', 'radio', 'meme', 'books', 'jobs']

/** ~500 hashtags; rank order = popularity (Zipf), 'music' is the 3rd most used. */
export const HASHTAGS = [...TOP_TAGS, ...Array.from({ length: 500 - TOP_TAGS.length }, (_, i) => `topic${i}`)]

export const DAY = 86_400

/**
 * Yields `n` unsigned events { pubkey, created_at, kind, tags, content, id }, oldest first.
 * opts: { n, pubkeys: string[], seed, end (unix s), days, kinds: [[kind, weight], ...], computeId }
 */
export function * generateEvents (opts) {
  const { n, pubkeys, computeId } = opts
  const rnd = makeRng(opts.seed ?? 1)
  const author = zipf(pubkeys.length, 1.0, rnd)
  const tagRank = zipf(HASHTAGS.length, 1.1, rnd)
  const span = (opts.days ?? 30) * DAY
  const start = opts.end - span
  const kinds = opts.kinds ?? [[1, 0.8], [7, 0.14], [0, 0.03], [3, 0.03]]
  const kindTotal = kinds.reduce((a, [, w]) => a + w, 0)
  const pickKind = () => {
    let x = rnd() * kindTotal
    for (const [k, w] of kinds) { if ((x -= w) < 0) return k }
    return kinds[0][0]
  }
  const recent = [] // ring of [id, pubkey] of recent kind-1 notes: reply/reaction targets
  const RING = 4096
  const text = (words) => Array.from({ length: words }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ')

  for (let i = 0; i < n; i++) {
    const pubkey = pubkeys[author()]
    const created_at = Math.min(opts.end, start + Math.floor((i * span) / n) + Math.floor(rnd() * 60))
    const kind = pickKind()
    let tags = []
    let content
    const target = recent.length > 0 ? recent[Math.floor(rnd() * recent.length)] : null
    if (kind === 1) {
      content = text(5 + Math.floor(rnd() * 35))
      if (rnd() < 0.4) {
        const k = 1 + Math.floor(rnd() * 3)
        const set = new Set(Array.from({ length: k }, () => HASHTAGS[tagRank()]))
        for (const t of set) { tags.push(['t', t]); content += ` #${t}` }
      }
      if (target !== null && rnd() < 0.25) tags.push(['e', target[0], '', 'reply'], ['p', target[1]])
      else if (rnd() < 0.05) tags.push(['p', pubkeys[author()]])
    } else if (kind === 7) {
      content = rnd() < 0.8 ? '+' : '🤙'
      if (target !== null) tags = [['e', target[0]], ['p', target[1]]]
    } else if (kind === 0) {
      content = JSON.stringify({ name: `user${pubkey.slice(0, 8)}`, about: text(8), picture: '' })
    } else if (kind === 3) {
      content = ''
      const follows = new Set(Array.from({ length: 20 + Math.floor(rnd() * 130) }, () => pubkeys[author()]))
      tags = [...follows].map(p => ['p', p])
    } else {
      content = text(10)
    }
    const e = { pubkey, created_at, kind, tags, content }
    e.id = computeId(e)
    if (kind === 1) {
      if (recent.length < RING) recent.push([e.id, pubkey])
      else recent[i % RING] = [e.id, pubkey]
    }
    yield e
  }
}
