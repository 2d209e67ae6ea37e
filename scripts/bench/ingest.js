// Ingest bench: signed events published over real WebSockets to an in-process node, compared
// with verify-only throughput (same events, one thread) measured in the same run.
import { join } from 'node:path'
import { DIST, benchConfig, rmrf, silentLog, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
import { connect, closeWs, publish } from './lib/ws.js'
import { percentile, ratio } from './lib/stats.js'

/** Verifies every event (id + signature) on this thread; fresh objects each pass. */
export async function verifyOnly (lines) {
  const { loadVerifier, verifyEventSignature } = await import(join(DIST, 'events', 'verify.js'))
  const v = loadVerifier({ log: { warn: () => {} } })
  const events = lines.map(l => JSON.parse(l))
  const t0 = performance.now()
  let ok = 0
  for (const e of events) if (verifyEventSignature(v, e) === 'ok') ok++
  const ms = performance.now() - t0
  if (ok !== lines.length) throw new Error(`verify-only: ${lines.length - ok} events failed verification`)
  return { eventsPerSec: lines.length / (ms / 1000), ms, backend: v.backend }
}

/** Times the two serialized steps of a group commit by wrapping them (diagnostic only). */
function instrument (store) {
  const acc = { blocks: 0, appendMs: 0, indexMs: 0 }
  const wrap = (obj, method, key, count) => {
    const orig = obj[method].bind(obj)
    obj[method] = async (...args) => {
      const t0 = performance.now()
      try { return await orig(...args) } finally { acc[key] += performance.now() - t0; if (count) acc.blocks++ }
    }
  }
  wrap(store.nodeLog, 'append', 'appendMs', true)
  wrap(store.logIndexer, 'indexBlock', 'indexMs', false) // a private field of Store, reached for timing only
  return acc
}

/** One fresh node, `conns` connections sharing the events round-robin. */
async function ingestOnce (lines, conns, window) {
  const { startNode } = await import(join(DIST, 'node.js'))
  const dir = await tempDir('ingest')
  const node = await startNode(await benchConfig(dir), { log: silentLog() })
  const commit = instrument(node.store)
  try {
    const url = `ws://127.0.0.1:${node.address.port}/`
    const sockets = await Promise.all(Array.from({ length: conns }, () => connect(url)))
    const shares = sockets.map((_, i) => lines.filter((_, j) => j % conns === i))
    const t0 = performance.now()
    const results = await Promise.all(sockets.map((ws, i) => publish(ws, shares[i], window)))
    const ms = performance.now() - t0
    await Promise.all(sockets.map(closeWs))
    const ok = results.reduce((a, r) => a + r.ok, 0)
    const rejected = results.reduce((a, r) => a + r.rejected, 0)
    const latencies = results.flatMap(r => r.latencies)
    const stored = node.store.count()
    return {
      conns, window, events: lines.length, ok, rejected, stored, ms,
      eventsPerSec: ok / (ms / 1000),
      okP50: percentile(latencies, 50),
      okP99: percentile(latencies, 99),
      reasons: [...new Set(results.flatMap(r => r.messages))],
      blocks: node.store.status().log.length,
      commit: { ...commit }
    }
  } finally {
    await node.close()
    await rmrf(dir)
  }
}

/** opts: { n, window, log } */
export async function run (opts = {}) {
  const n = opts.n ?? 40_000
  const window = opts.window ?? 64
  const log = opts.log ?? (() => {})
  const { lines, cached } = await signedEvents(n, { log })
  log(`ingest: ${n} events (${cached ? 'cached' : 'freshly signed'}), window ${window}`)

  // verify-only flanks each ingest run; each run is compared with the mean of its two flanks,
  // so a load change on this noisy machine hits both sides of a ratio alike
  await verifyOnly(lines.slice(0, 2000)) // warm-up
  const v0 = await verifyOnly(lines)
  const one = await ingestOnce(lines, 1, window)
  log(`ingest 1 conn: ${Math.round(one.eventsPerSec)} ev/s`)
  const v1 = await verifyOnly(lines)
  const four = await ingestOnce(lines, 4, window)
  log(`ingest 4 conns: ${Math.round(four.eventsPerSec)} ev/s`)
  const v2 = await verifyOnly(lines)
  const flanks = [v0, v1, v2].map(v => v.eventsPerSec)
  one.verifyRef = (flanks[0] + flanks[1]) / 2
  four.verifyRef = (flanks[1] + flanks[2]) / 2
  const verify = (flanks[0] + flanks[1] + flanks[2]) / 3
  log(`verify-only: ${flanks.map(Math.round).join(' / ')} ev/s (${v0.backend})`)

  for (const r of [one, four]) {
    if (r.ok !== n) log(`WARNING: ${r.conns} conn(s): only ${r.ok}/${n} OK true; reasons: ${r.reasons.join('; ')}`)
  }
  return {
    n, window, backend: v0.backend,
    verifyOnly: { eventsPerSec: verify, flanks },
    runs: [one, four],
    ratio1: ratio(one.eventsPerSec, one.verifyRef),
    ratio4: ratio(four.eventsPerSec, four.verifyRef)
  }
}
