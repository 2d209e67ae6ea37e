// A data dir holding n events, filled the way a restored node is: blocks written straight into
// the node log, then the index rebuilt from the (trusted) log on open. Cached under
// bench-results/store-<n>-g<GEN_VERSION>/ with a meta.json written last (= complete).
// The index is rebuilt (and the reindex figure re-measured) whenever the compiled store code
// changed since the last build, so a cached index never outlives the code that wrote it.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DIST, RESULTS, benchConfig, rmrf, silentLog } from './util.js'
import { generateEvents } from './dataset.js'
import { hexFrom } from './rng.js'

export const GEN_VERSION = 1
const AUTHORS = 2000
const BLOCK = 256
const SAMPLE_IDS = 5000

/** Hash of the compiled code that decides what the index holds. */
export function storeCodeHash () {
  const h = createHash('sha256')
  const files = [
    ...readdirSync(join(DIST, 'store')).filter(f => f.endsWith('.js')).map(f => join(DIST, 'store', f)),
    join(DIST, 'events', 'event.js')
  ].sort()
  for (const f of files) h.update(f).update(readFileSync(f))
  return h.digest('hex').slice(0, 16)
}

export const storeDir = n => join(RESULTS, `store-${n}-g${GEN_VERSION}`)

export async function openStore (dir, extra = {}) {
  const { Store } = await import(join(DIST, 'store', 'store.js'))
  const c = await benchConfig(dir)
  return await Store.open({ dir, limits: c.limits, store: c.store, log: silentLog(), ...extra })
}

/** Deletes `<dir>/index` and reopens: the store rebuilds the index from its own log. */
export async function reindex (dir) {
  await rm(join(dir, 'index'), { recursive: true, force: true })
  const t0 = performance.now()
  const store = await openStore(dir)
  const ms = performance.now() - t0
  const indexed = store.count()
  const blocks = store.nodeLog.current.length
  await store.close()
  return { ms, indexed, blocks }
}

async function rebuildIndex (dir, meta, log) {
  const metaFile = join(dir, 'meta.json')
  await writeFile(metaFile, JSON.stringify({ ...meta, codeHash: null })) // an interrupted rebuild is redone
  log(`rebuilding the index of ${dir} (${meta.n} events) ...`)
  const r = await reindex(dir)
  log(`  index rebuilt: ${r.indexed} events indexed from ${meta.n} in the log in ${(r.ms / 1000).toFixed(1)} s`)
  const next = { ...meta, codeHash: storeCodeHash(), reindexedAt: new Date().toISOString(), reindex: { ...r, eventsPerSec: meta.n / (r.ms / 1000) } }
  await writeFile(metaFile, JSON.stringify(next))
  return next
}

/**
 * Returns meta { n, dir, authors, sampleIds, fill, reindex, cached, reindexed }.
 * opts.reindex: rebuild the index (re-measure reindex) even if the store code is unchanged.
 */
export async function filledStore (n, { log = () => {}, reindex: force = false } = {}) {
  const dir = storeDir(n)
  const metaFile = join(dir, 'meta.json')
  if (existsSync(metaFile)) {
    let meta = JSON.parse(readFileSync(metaFile, 'utf8'))
    let reindexed = false
    if (force || meta.codeHash !== storeCodeHash()) {
      if (!force) log(`store code changed since ${dir} was indexed: rebuilding its index`)
      meta = await rebuildIndex(dir, meta, log)
      reindexed = true
    }
    return { ...meta, dir, cached: true, reindexed }
  }
  await rmrf(dir)
  log(`building a ${n}-event store in ${dir} ...`)
  const { computeId } = await import(join(DIST, 'events', 'event.js'))
  const { encodeBlock } = await import(join(DIST, 'store', 'block-codec.js'))
  const authors = Array.from({ length: AUTHORS }, (_, i) => hexFrom(`outpost-bench-author-${i}`))
  const end = Math.floor(Date.now() / 1000) - 3600
  const every = Math.max(1, Math.floor(n / SAMPLE_IDS))
  const sampleIds = []
  const fakeSig = () => randomBytes(64).toString('hex')

  const t0 = performance.now()
  let genMs = 0
  const store = await openStore(dir)
  try {
    let batch = []
    let i = 0
    let tg = performance.now()
    for (const e of generateEvents({ n, pubkeys: authors, seed: 7, end, computeId })) {
      const line = JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: fakeSig() })
      batch.push(line)
      if (i++ % every === 0 && e.kind === 1) sampleIds.push(e.id)
      if (batch.length === BLOCK) {
        genMs += performance.now() - tg
        await store.nodeLog.append(encodeBlock(batch))
        batch = []
        tg = performance.now()
        if ((i / BLOCK) % 400 === 0) log(`  ${i} / ${n} events in the log (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
      }
    }
    genMs += performance.now() - tg
    if (batch.length > 0) await store.nodeLog.append(encodeBlock(batch))
  } finally {
    await store.close()
  }
  const fillMs = performance.now() - t0
  log(`  log written in ${(fillMs / 1000).toFixed(1)} s (generation ${(genMs / 1000).toFixed(1)} s)`)
  const meta = await rebuildIndex(dir, {
    n, genVersion: GEN_VERSION, builtAt: new Date().toISOString(), end, authors, sampleIds,
    fill: { ms: fillMs, genMs, appendMs: fillMs - genMs, blocks: Math.ceil(n / BLOCK) }
  }, log)
  return { ...meta, dir, cached: false, reindexed: true }
}
