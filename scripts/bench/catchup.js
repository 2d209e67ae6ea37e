// Catch-up bench: a node that was away while n events were written elsewhere connects and
// catches up through the full sync path (Noise over TCP, our channel, corestore replication,
// every event re-verified and indexed). Measured next to raw corestore replication of the
// same blocks over the same kind of stream, in the same run. The catch-up runs with the
// read-ahead (the next blocks checked while the current ones are indexed) and without it,
// alternately (ABBA...) in the same run.
//   node scripts/bench/catchup.js [--n 100000] [--pairs 2]
import net from 'node:net'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import CorestoreStorage from 'hypercore-storage'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import { DIST, benchConfig, rmrf, silentLog, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
import { ratio } from './lib/stats.js'

const BLOCK = 256

export async function until (fn, ms, what) {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`catchup bench: timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** A store + sync manager, as startNode builds them (no HTTP: not part of what is measured). */
export async function syncNode (dir, community, { index = true, priorities = true, readAhead = true } = {}) {
  const { Store } = await import(join(DIST, 'store', 'store.js'))
  const { SyncManager } = await import(join(DIST, 'sync', 'sync-manager.js'))
  const { loadIdentity } = await import(join(DIST, 'sync', 'identity.js'))
  const { admitNode } = await import(join(DIST, 'sync', 'admission.js'))
  const c = await benchConfig(dir)
  const store = await Store.open({ dir, limits: c.limits, store: c.store, log: silentLog(), readAhead })
  // diagnostic only: the transport without the indexer competing for the event loop
  if (!index) store.indexReplicatedLog = async () => 0
  const keyPair = await loadIdentity(dir, { create: true })
  const sync = new SyncManager({ store, community, keyPair, admission: admitNode(community, keyPair.publicKey), dataDir: dir, log: silentLog(), listen: { host: '127.0.0.1', port: 0 }, priorities })
  const addr = await sync.start()
  return { store, sync, port: addr.port, close: async () => { await sync.close(); await store.close() } }
}

/** Raw: a fresh Corestore downloads the same log over Noise/TCP from the source's Corestore. */
async function rawReplication (source, key, length) {
  const dir = await tempDir('catchup-raw')
  const store = new Corestore(new CorestoreStorage(dir, { writeBufferSize: 8 * 1024 * 1024, maxBackgroundJobs: 2 }))
  await store.ready()
  const server = net.createServer(socket => {
    socket.on('error', () => {})
    const s = new NoiseSecretStream(false, socket)
    s.on('error', () => {})
    source.corestore.replicate(s)
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const t0 = performance.now()
    const core = store.get({ key })
    await core.ready()
    core.download({ start: 0, end: -1, linear: true })
    const socket = net.connect(server.address().port, '127.0.0.1')
    socket.on('error', () => {})
    const s = new NoiseSecretStream(true, socket)
    s.on('error', () => {})
    store.replicate(s)
    await until(() => core.length === length && core.contiguousLength === length, 600_000, 'raw replication')
    const ms = performance.now() - t0
    s.destroy()
    await core.close()
    return { ms }
  } finally {
    await new Promise(resolve => server.close(resolve))
    await store.close()
    await rmrf(dir)
  }
}

export async function run (opts = {}) {
  const n = opts.n ?? 100_000
  const pairs = opts.pairs ?? 2
  const log = opts.log ?? (() => {})
  const { lines } = await signedEvents(n, { log })
  const { createCommunity } = await import(join(DIST, 'sync', 'community.js'))
  const { encodeBlock } = await import(join(DIST, 'store', 'block-codec.js'))
  const community = createCommunity({ name: 'bench' })
  const srcDir = await tempDir('catchup-src')
  const src = await syncNode(srcDir, community)
  try {
    // written elsewhere while the other node was away: group-commit sized blocks
    const t0 = performance.now()
    for (let i = 0; i < lines.length; i += BLOCK) await src.store.nodeLog.append(encodeBlock(lines.slice(i, i + BLOCK)))
    const core = src.store.nodeLog.current
    log(`catchup: ${n} events in ${core.length} blocks written in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const raw1 = await rawReplication(src.store, core.key, core.length)
    log(`catchup: raw corestore replication ${(raw1.ms / 1000).toFixed(2)} s`)

    const load = [loadavg()[0]]
    // A = read-ahead on (the node's default), B = off; ABBA... so drift hits both alike
    const runs = { with: [], without: [] }
    for (let i = 0; i < pairs * 2; i++) {
      const readAhead = i % 4 === 0 || i % 4 === 3
      const r = await catchUpOnce(community, src.port, core, n, readAhead)
      runs[readAhead ? 'with' : 'without'].push(r)
      log(`catchup: ${readAhead ? 'read-ahead   ' : 'no read-ahead'} ${(r.ms / 1000).toFixed(2)} s, ${Math.round(n / (r.ms / 1000))} events/s, CPU ${(r.cpuMs / 1000).toFixed(2)} s = ${(r.cpuMs / r.ms).toFixed(2)} cores (every block local after ${(r.localMs / 1000).toFixed(2)} s; load ${loadavg()[0].toFixed(1)})`)
    }
    const mean = xs => xs.reduce((a, b) => a + b, 0) / xs.length
    const summary = rs => {
      const ms = mean(rs.map(r => r.ms))
      const localMs = mean(rs.map(r => r.localMs))
      const cpuMs = mean(rs.map(r => r.cpuMs))
      return { ms, eventsPerSec: n / (ms / 1000), invalid: rs[0].invalid, localMs, localEventsPerSec: n / (localMs / 1000), runs: rs.map(r => r.ms), cpuMs, cpuUsPerEvent: cpuMs * 1000 / n, cores: cpuMs / ms }
    }
    load.push(loadavg()[0])
    const ours = summary(runs.with)
    const without = summary(runs.without)

    // the same sync path with indexing switched off: what the transport alone costs
    const tDir = await tempDir('catchup-transport')
    const tNode = await syncNode(tDir, community, { index: false })
    let transportMs
    try {
      const t2 = performance.now()
      tNode.sync.addPeerAddress({ host: '127.0.0.1', port: src.port, source: 'static' })
      await until(() => tNode.sync.status().logs.some(l => l.key === core.key.toString('hex') && l.available === core.length), 600_000, 'transport-only catch-up')
      transportMs = performance.now() - t2
      log(`catchup: sync transport alone (indexing off) ${(transportMs / 1000).toFixed(2)} s`)
    } finally {
      await tNode.close()
      await rmrf(tDir)
    }

    const raw2 = await rawReplication(src.store, core.key, core.length)
    log(`catchup: raw corestore replication (again) ${(raw2.ms / 1000).toFixed(2)} s`)
    const rawMs = (raw1.ms + raw2.ms) / 2
    return {
      n,
      blocks: core.length,
      eventsPerBlock: n / core.length,
      ours,
      without,
      readAheadSpeedup: ratio(ours.eventsPerSec, without.eventsPerSec),
      load,
      transport: { ms: transportMs, eventsPerSec: n / (transportMs / 1000) },
      raw: { ms: rawMs, eventsPerSec: n / (rawMs / 1000), flanks: [raw1.ms, raw2.ms] },
      ratio: ratio(ours.eventsPerSec, n / (rawMs / 1000)),
      withoutRatio: ratio(without.eventsPerSec, n / (rawMs / 1000)),
      localRatio: ratio(ours.localEventsPerSec, n / (rawMs / 1000)),
      withoutLocalRatio: ratio(without.localEventsPerSec, n / (rawMs / 1000)),
      transportRatio: ratio(n / (transportMs / 1000), n / (rawMs / 1000))
    }
  } finally {
    await src.close()
    await rmrf(srcDir)
  }
}

/** A fresh node catches up the whole log from the source; times until every event is indexed. */
async function catchUpOnce (community, port, core, n, readAhead) {
  const dir = await tempDir('catchup-dst')
  const dst = await syncNode(dir, community, { readAhead })
  try {
    const hex = core.key.toString('hex')
    const cpu0 = process.cpuUsage()
    const t1 = performance.now()
    dst.sync.addPeerAddress({ host: '127.0.0.1', port, source: 'static' })
    let localMs = null
    await until(() => {
      if (localMs === null) {
        const l = dst.sync.status().logs.find(l => l.key === hex)
        if (l !== undefined && l.available === core.length) localMs = performance.now() - t1
      }
      return dst.store.count() === n
    }, 600_000, 'catch-up')
    const ms = performance.now() - t1
    const cpu = process.cpuUsage(cpu0)
    const invalid = dst.sync.status().logs.find(l => l.key === hex)?.invalidEvents ?? 0
    // CPU of the whole process (main thread + verify workers; the source node's serving too)
    return { ms, localMs, invalid, cpuMs: (cpu.user + cpu.system) / 1000 }
  } finally {
    await dst.close()
    await rmrf(dir)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const opt = name => { const i = args.indexOf(name); return i === -1 ? undefined : Number(args[i + 1]) }
  const r = await run({ n: opt('--n'), pairs: opt('--pairs'), log: m => console.error(`[bench] ${m}`) })
  console.log(JSON.stringify(r, null, 2))
}
