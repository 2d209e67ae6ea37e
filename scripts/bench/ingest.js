// Ingest bench: signed events published over real WebSockets by a client process to a node in
// this process, compared with verify-only throughput (same events, one thread) in the same run.
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DIST, benchConfig, rmrf, silentLog, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
import { mainThreadCpuMs, threadCpuMs } from './costs.js'
import { percentile, ratio } from './lib/stats.js'

/** Verifies every event (id + signature) on this thread; fresh objects each pass. */
export async function verifyOnly (lines) {
  const { loadVerifier, verifyEventSignature } = await import(join(DIST, 'events', 'verify.js'))
  const v = loadVerifier({ log: { warn: () => {} } })
  const events = lines.map(l => JSON.parse(l))
  const t0 = performance.now()
  const c0 = mainThreadCpuMs()
  let ok = 0
  for (const e of events) if (verifyEventSignature(v, e) === 'ok') ok++
  const ms = performance.now() - t0
  const cpuMs = mainThreadCpuMs() - c0
  if (ok !== lines.length) throw new Error(`verify-only: ${lines.length - ok} events failed verification`)
  // cpuUs: CPU per event, which other load on the machine inflates far less than wall time
  return { eventsPerSec: lines.length / (ms / 1000), ms, cpuUs: cpuMs * 1000 / lines.length, backend: v.backend }
}

/**
 * Times the store's steps by wrapping them (diagnostic only): appending a block, the WAL fsync
 * (several blocks can share one), and indexing a block. Steps overlap, so they do not add up
 * to wall time.
 */
function instrument (store) {
  const acc = { blocks: 0, appendMs: 0, syncs: 0, syncMs: 0, indexMs: 0 }
  const wrap = (obj, method, key, count) => {
    const orig = obj[method].bind(obj)
    obj[method] = async (...args) => {
      const t0 = performance.now()
      try { return await orig(...args) } finally { acc[key] += performance.now() - t0; if (count) acc[count]++ }
    }
  }
  // the store appends with appendUnsynced() and fsyncs behind it (older builds: append() does both)
  wrap(store.nodeLog, typeof store.nodeLog.appendUnsynced === 'function' ? 'appendUnsynced' : 'append', 'appendMs', 'blocks')
  wrap(store.nodeLog, 'syncWal' in store.nodeLog ? 'syncWal' : 'sync', 'syncMs', 'syncs')
  wrap(store.logIndexer, 'indexBlock', 'indexMs', null) // a private field of Store, reached for timing only
  return acc
}

/**
 * Runs the clients in a child process (lib/publisher.js): it connects `conns` sockets, splits
 * the events round-robin, pre-builds the frames, then publishes on our signal.
 */
function publisher (url, file, conns, window) {
  const child = fork(fileURLToPath(new URL('./lib/publisher.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = () => new Promise((resolve, reject) => {
    const onExit = code => reject(new Error(`publisher exited with code ${code}`))
    child.once('exit', onExit)
    child.once('message', m => {
      child.off('exit', onExit)
      if (m.type === 'error') reject(new Error(`publisher: ${m.message}`))
      else resolve(m)
    })
  })
  child.send({ url, file, conns, window })
  return {
    ready: next(),
    go () { const done = next(); child.send({ type: 'go' }); return done },
    kill () { if (child.exitCode === null) child.kill() }
  }
}

/**
 * CPU ms per group of this process's threads between two threadCpuMs() snapshots. `older`
 * lists the threads that ran before the node started: the node's own new threads are its
 * verify pool's workers ("rocksdb:" threads, which do flushes and compactions, are shared by
 * every RocksDB in the process); the other threads are libuv's pool (RocksDB reads and writes,
 * fsync) and V8's (GC, optimizing compiler).
 */
function threadSplit (older, before, after) {
  const out = { main: 0, verifyWorkers: 0, rocksdbBackground: 0, libuvAndV8: 0 }
  for (const [tid, t] of Object.entries(after)) {
    const ms = t.ms - (before[tid]?.ms ?? 0)
    if (Number(tid) === process.pid) out.main += ms
    else if (t.name.startsWith('rocksdb')) out.rocksdbBackground += ms
    else if (older[tid] === undefined) out.verifyWorkers += ms
    else out.libuvAndV8 += ms
  }
  return out
}

/** One fresh node in this process, `conns` connections from a client process. */
export async function ingestOnce (file, conns, window) {
  const { startNode } = await import(join(DIST, 'node.js'))
  const dir = await tempDir('ingest')
  const older = threadCpuMs()
  const node = await startNode(await benchConfig(dir), { log: silentLog() })
  // the verify pool starts its worker threads on the first large batch; a node that has been
  // running has them, so they are started here, before timing (64 of the events, checked only)
  const sample = readFileSync(file, 'utf8').split('\n', 64).filter(Boolean).map(l => JSON.parse(l))
  if (!(await node.store.pool.verifyMany(sample)).every(ok => ok)) throw new Error('ingest: warm-up verification failed')
  const commit = instrument(node.store)
  const pub = publisher(`ws://127.0.0.1:${node.address.port}/`, file, conns, window)
  try {
    await pub.ready
    const threads0 = threadCpuMs()
    const cpu0 = process.cpuUsage()
    const main0 = mainThreadCpuMs()
    const { ms, cpu: clientCpu, results } = await pub.go()
    const cpu = process.cpuUsage(cpu0)
    const mainMs = mainThreadCpuMs() - main0
    const threads = threadSplit(older, threads0, threadCpuMs())
    const ok = results.reduce((a, r) => a + r.ok, 0)
    const rejected = results.reduce((a, r) => a + r.rejected, 0)
    const latencies = results.flatMap(r => r.latencies)
    const stored = node.store.count()
    return {
      conns, window, events: results.reduce((a, r) => a + r.ok + r.rejected, 0), ok, rejected, stored, ms,
      eventsPerSec: ok / (ms / 1000),
      okP50: percentile(latencies, 50),
      okP99: percentile(latencies, 99),
      // the node process's CPU (all its threads) per wall second while publishing
      nodeCpu: (cpu.user + cpu.system) / 1000 / ms,
      clientCpu,
      // CPU time per accepted event: the node's main thread, and all its threads (workers, I/O)
      mainUsPerEvent: mainMs * 1000 / ok,
      nodeUsPerEvent: (cpu.user + cpu.system) / ok,
      // the same, per group of threads (µs per accepted event)
      threadsUsPerEvent: Object.fromEntries(Object.entries(threads).map(([k, v]) => [k, v * 1000 / ok])),
      clientUsPerEvent: clientCpu * ms * 1000 / ok,
      reasons: [...new Set(results.flatMap(r => r.messages))],
      blocks: node.store.status().log.length,
      commit: { ...commit }
    }
  } finally {
    pub.kill()
    await node.close()
    await rmrf(dir)
  }
}

/** ms per fdatasync after an 8 KiB append to a file in the temp dir (the disk's floor under one group commit). */
export async function fsyncProbe (rounds = 200) {
  const dir = await tempDir('fsync')
  const fh = await open(join(dir, 'probe'), 'w')
  const buf = Buffer.alloc(8192, 1)
  try {
    const t0 = performance.now()
    for (let i = 0; i < rounds; i++) { await fh.write(buf); await fh.datasync() }
    return (performance.now() - t0) / rounds
  } finally {
    await fh.close()
    await rmrf(dir)
  }
}

const median = xs => percentile(xs, 50)

/** Field-wise median of result objects (numbers only; nested objects one level deep). */
function medianOf (rs) {
  const out = { ...rs[0] }
  for (const [k, v] of Object.entries(rs[0])) {
    if (typeof v === 'number') out[k] = median(rs.map(r => r[k]))
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = medianOf(rs.map(r => r[k]))
  }
  return out
}

/**
 * opts: { n, window, repeat, log }. After a warm-up ingest (not reported), each repetition:
 * verify-only, 1 connection, verify-only, 4 connections, verify-only; each ingest run is
 * compared with the mean of its two flanks, so a load change on this noisy machine hits both
 * sides of a ratio alike. Reported figures are field-wise medians over the repetitions;
 * `spread` keeps every repetition's ratios.
 */
export async function run (opts = {}) {
  const n = opts.n ?? 40_000
  const window = opts.window ?? 64
  const repeat = Math.max(1, opts.repeat ?? 3)
  const log = opts.log ?? (() => {})
  const { lines, cached, file } = await signedEvents(n, { log })
  log(`ingest: ${n} events (${cached ? 'cached' : 'freshly signed'}), window ${window}, ${repeat} repetition(s)`)

  await verifyOnly(lines.slice(0, 2000)) // warm-up
  const costs = await (await import('./costs.js')).run({ n: Math.min(n, 20_000), log })
  // warm-up of the ingest path too (not reported): the node runs in this process, so without it
  // the first repetition alone pays for compiling the ingest code (V8's optimizing compiler
  // threads), which a running node has long done; the events are the cost table's own set
  const warm = await signedEvents(Math.min(n, 20_000), { log })
  await ingestOnce(warm.file, 4, window)
  const ones = []
  const fours = []
  const flanks = []
  const flankCpuUs = []
  const fsyncMs = []
  for (let rep = 0; rep < repeat; rep++) {
    fsyncMs.push(await fsyncProbe())
    const v0 = await verifyOnly(lines)
    const one = await ingestOnce(file, 1, window)
    const v1 = await verifyOnly(lines)
    const four = await ingestOnce(file, 4, window)
    const v2 = await verifyOnly(lines)
    const f = [v0, v1, v2].map(v => v.eventsPerSec)
    one.verifyRef = (f[0] + f[1]) / 2
    four.verifyRef = (f[1] + f[2]) / 2
    one.ratio = ratio(one.eventsPerSec, one.verifyRef)
    four.ratio = ratio(four.eventsPerSec, four.verifyRef)
    ones.push(one)
    fours.push(four)
    flanks.push(...f)
    flankCpuUs.push(...[v0, v1, v2].map(v => v.cpuUs))
    log(`ingest rep ${rep + 1}/${repeat}: 1 conn ${Math.round(one.eventsPerSec)} ev/s (${one.ratio.toFixed(2)}x), 4 conns ${Math.round(four.eventsPerSec)} ev/s (${four.ratio.toFixed(2)}x); verify-only ${f.map(Math.round).join(' / ')} ev/s; fsync ${fsyncMs[rep].toFixed(2)} ms`)
    for (const r of [one, four]) {
      if (r.ok !== n) log(`WARNING: ${r.conns} conn(s): only ${r.ok}/${n} OK true; reasons: ${r.reasons.join('; ')}`)
    }
  }
  const one = medianOf(ones)
  const four = medianOf(fours)
  const backend = (await verifyOnly(lines.slice(0, 100))).backend
  return {
    n, window, repeat, backend,
    verifyOnly: { eventsPerSec: median(flanks), flanks, cpuUs: median(flankCpuUs) },
    fsyncMs: median(fsyncMs),
    costs,
    runs: [one, four],
    ratio1: one.ratio,
    ratio4: four.ratio,
    spread: { ratio1: ones.map(r => r.ratio), ratio4: fours.map(r => r.ratio) }
  }
}
