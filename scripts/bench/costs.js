// Cost breakdown of ingest, step by step on this thread, on the same events as the ingest
// bench: what one event costs to parse, validate (shape + id hash), verify (signature), and to
// append + fsync + index in blocks (real Store parts: NodeLog, LogIndexer). Together with the
// ingest bench's CPU accounting it shows where the ceiling of "ingest / verify-only" is.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DIST, benchConfig, rmrf, silentLog, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'

/** CPU ms used so far by this process's main thread (Linux /proc; NaN elsewhere). */
export function mainThreadCpuMs () {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
    return (Number(rest[11]) + Number(rest[12])) * 10 // utime + stime in 100 Hz ticks
  } catch { return NaN }
}

/**
 * CPU ms used so far by each thread of this process, by thread id: { [tid]: { name, ms } }
 * (Linux /proc; empty elsewhere). RocksDB names its threads "rocksdb:…"; the others are "node".
 */
export function threadCpuMs () {
  const out = {}
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
        out[tid] = { name: f.slice(f.indexOf('(') + 1, f.lastIndexOf(')')), ms: (Number(rest[11]) + Number(rest[12])) * 10 }
      } catch {} // the thread ended meanwhile
    }
  } catch {}
  return out
}

/** µs per item of CPU (main thread; all threads of this process) and of wall time, for fn() over n items. */
async function cost (n, fn) {
  const c0 = process.cpuUsage()
  const m0 = mainThreadCpuMs()
  const t0 = performance.now()
  await fn()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wallUs: wall * 1000 / n, mainUs: (mainThreadCpuMs() - m0) * 1000 / n, cpuUs: (c.user + c.system) / n }
}

/** opts: { n = 20000, block = 64, log } */
export async function run (opts = {}) {
  const n = opts.n ?? 20_000
  const block = opts.block ?? 64
  const log = opts.log ?? (() => {})
  const { lines } = await signedEvents(n, { log })
  const frames = lines.map(l => `["EVENT",${l}]`)
  const { validateEvent } = await import(join(DIST, 'events', 'validate.js'))
  const { loadVerifier } = await import(join(DIST, 'events', 'verify.js'))
  const { encodeBlock } = await import(join(DIST, 'store', 'block-codec.js'))
  const { Store } = await import(join(DIST, 'store', 'store.js'))
  const dir = await tempDir('costs')
  const cfg = await benchConfig(dir)
  const now = Math.floor(Date.now() / 1000)
  const rows = []

  let parsed = []
  rows.push({ step: 'JSON.parse of the EVENT frame', ...await cost(n, () => { parsed = frames.map(f => JSON.parse(f)[1]) }) })
  let checked = []
  rows.push({ step: 'validate: shape, limits, serialize, sha256 id', ...await cost(n, () => { checked = parsed.map(e => validateEvent(e, cfg.limits, now)) }) })
  if (!checked.every(c => c.ok)) throw new Error('costs: an event failed validation')
  const v = loadVerifier({ log: { warn: () => {} } })
  rows.push({ step: `verify signature (${v.backend}, one call per event)`, ...await cost(n, () => { for (const c of checked) if (!v.verify(c.event.id, c.event.pubkey, c.event.sig)) throw new Error('bad sig') }) })

  const store = await Store.open({ dir: join(dir, 'data'), limits: cfg.limits, store: cfg.store, log: silentLog() })
  try {
    const blocks = []
    for (let i = 0; i < checked.length; i += block) blocks.push(checked.slice(i, i + block))
    const appended = []
    rows.push({ step: `append to the node log, ${block} events per block (no fsync)`, ...await cost(n, async () => { for (const b of blocks) appended.push(await store.nodeLog.appendUnsynced(encodeBlock(b.map(c => c.json)))) }) })
    let syncs = 0
    rows.push({ step: `WAL fdatasync, one per ${block}-event block`, ...await cost(n, async () => { for (let i = 0; i < blocks.length; i++) { await store.nodeLog.syncWal(); syncs++ } }) })
    const li = store.logIndexer // private field of Store, reached for measurement only
    rows.push({ step: `index, ${block} events per batch (reads + write)`, ...await cost(n, async () => {
      for (let i = 0; i < blocks.length; i++) await li.indexBlock(appended[i].core, appended[i].seq, blocks[i].map(c => ({ event: c.event, json: c.json })))
    }) })
    if (store.count() !== n) throw new Error(`costs: indexed ${store.count()} of ${n}`)
    log(`costs: ${n} events, ${blocks.length} blocks, ${syncs} fsyncs`)
  } finally {
    await store.close()
    await rmrf(dir)
  }
  return { n, block, rows }
}
