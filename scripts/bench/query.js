// Query bench: p50/p99 of the query mix on a filled store (in-process store.query), plus
// REQ -> EOSE over WebSocket for the author timeline.
import { join } from 'node:path'
import { DIST, benchConfig, silentLog } from './lib/util.js'
import { filledStore } from './lib/filled-store.js'
import { queryMix } from './lib/query-mix.js'
import { connect, closeWs, reqEose } from './lib/ws.js'
import { summarize } from './lib/stats.js'

async function timeQueries (fn, make, iterations) {
  for (let i = 0; i < 5; i++) await fn(make()) // warm-up
  const ms = []
  let results = 0
  for (let i = 0; i < iterations; i++) {
    const f = make()
    const t0 = performance.now()
    results += await fn(f)
    ms.push(performance.now() - t0)
  }
  return { ...summarize(ms), avgResults: results / iterations }
}

/** Queries one size. opts: { size, iterations, wsIterations, reindex, log } */
export async function runSize (opts) {
  const { size, log = () => {} } = opts
  const meta = await filledStore(size, { log, reindex: opts.reindex === true })
  const { startNode } = await import(join(DIST, 'node.js'))
  const node = await startNode(await benchConfig(meta.dir), { log: silentLog() })
  try {
    const rows = []
    for (const q of queryMix(meta)) {
      const r = await timeQueries(async f => (await node.store.query([f])).length, q.make, opts.iterations ?? 200)
      rows.push({ name: q.name, via: 'store.query', ...r })
    }
    const ws = await connect(`ws://127.0.0.1:${node.address.port}/`)
    const author = queryMix(meta)[0]
    const r = await timeQueries(async f => (await reqEose(ws, [f])).events, author.make, opts.wsIterations ?? 50)
    rows.push({ name: author.name, via: 'REQ->EOSE (ws)', ...r })
    await closeWs(ws)
    log(`query ${size}: ${rows.map(r => `${r.name}/${r.via} p50 ${r.p50.toFixed(2)} ms`).join(', ')}`)
    return { size, stored: node.store.count(), cached: meta.cached, reindexed: meta.reindexed, reindexedAt: meta.reindexedAt, fill: meta.fill, reindex: meta.reindex, rows }
  } finally {
    await node.close()
  }
}

/** opts: { sizes, iterations, wsIterations, reindex (force an index rebuild), log } */
export async function run (opts = {}) {
  const out = []
  for (const size of opts.sizes ?? [100_000]) out.push(await runSize({ ...opts, size }))
  return out
}
