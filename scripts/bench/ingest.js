// Ingest bench: signed events published over real WebSockets by a client process to a node in
// this process, compared with verify-only throughput (same events, one thread) in the same run.
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DIST, benchConfig, rmrf, silentLog, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
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

/** CPU ms used so far by this process's main thread (Linux /proc; NaN elsewhere). */
function mainThreadCpuMs () {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
    return (Number(rest[11]) + Number(rest[12])) * 10 // utime + stime in 100 Hz ticks
  } catch { return NaN }
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

/** One fresh node in this process, `conns` connections from a client process. */
export async function ingestOnce (file, conns, window) {
  const { startNode } = await import(join(DIST, 'node.js'))
  const dir = await tempDir('ingest')
  const node = await startNode(await benchConfig(dir), { log: silentLog() })
  const commit = instrument(node.store)
  const pub = publisher(`ws://127.0.0.1:${node.address.port}/`, file, conns, window)
  try {
    await pub.ready
    const cpu0 = process.cpuUsage()
    const main0 = mainThreadCpuMs()
    const { ms, cpu: clientCpu, results } = await pub.go()
    const cpu = process.cpuUsage(cpu0)
    const mainMs = mainThreadCpuMs() - main0
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

/** opts: { n, window, log } */
export async function run (opts = {}) {
  const n = opts.n ?? 40_000
  const window = opts.window ?? 64
  const log = opts.log ?? (() => {})
  const { lines, cached, file } = await signedEvents(n, { log })
  log(`ingest: ${n} events (${cached ? 'cached' : 'freshly signed'}), window ${window}`)

  // verify-only flanks each ingest run; each run is compared with the mean of its two flanks,
  // so a load change on this noisy machine hits both sides of a ratio alike
  await verifyOnly(lines.slice(0, 2000)) // warm-up
  const v0 = await verifyOnly(lines)
  const one = await ingestOnce(file, 1, window)
  log(`ingest 1 conn: ${Math.round(one.eventsPerSec)} ev/s`)
  const v1 = await verifyOnly(lines)
  const four = await ingestOnce(file, 4, window)
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
