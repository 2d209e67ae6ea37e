// The query mix shared by the query and start-up benches.
import { makeRng, zipf } from './rng.js'
import { pickDistinct } from './util.js'

/** [{ name, make: () => filter }] built from a filled store's meta. */
export function queryMix (meta, seed = 99) {
  const rnd = makeRng(seed)
  const active = zipf(meta.authors.length, 1.0, rnd) // profiles are viewed as often as they post
  return [
    { name: 'author timeline', make: () => ({ authors: [meta.authors[active()]], kinds: [1], limit: 50 }) },
    { name: 'follow feed (100 authors)', make: () => ({ authors: pickDistinct(meta.authors, 100, rnd), kinds: [1], limit: 50 }) },
    { name: 'tag #music', make: () => ({ '#t': ['music'], limit: 50 }) },
    { name: 'kind 0', make: () => ({ kinds: [0], limit: 100 }) },
    { name: 'ids (20)', make: () => ({ ids: pickDistinct(meta.sampleIds, 20, rnd) }) },
    { name: 'global timeline', make: () => ({ limit: 50 }) }
  ]
}
