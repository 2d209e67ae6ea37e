// Catch-up bench: a node that was away while n events were written elsewhere connects and
// catches up through the full sync path (Noise over TCP, our channel, corestore replication,
// every event re-verified and indexed). Measured next to raw corestore replication of the
// same blocks over the same kind of stream, in the same run.
import net from 'node:net'
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
export async function syncNode (dir, community, { index = true, priorities = true } = {}) {
  const { Store } = await import(join(DIST, 'store', 'store.js'))
  const { SyncManager } = await import(join(DIST, 'sync', 'sync-manager.js'))
  const { loadIdentity } = await import(join(DIST, 'sync', 'identity.js'))
  const { admitNode } = await import(join(DIST, 'sync', 'admission.js'))
  const c = await benchConfig(dir)
  const store = await Store.open({ dir, limits: c.limits, store: c.store, log: silentLog() })
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
  const log = opts.log ?? (() => {})
  const { lines } = await signedEvents(n, { log })
  const { createCommunity } = await import(join(DIST, 'sync', 'community.js'))
  const { encodeBlock } = await import(join(DIST, 'store', 'block-codec.js'))
  const community = createCommunity({ name: 'bench' })
  const srcDir = await tempDir('catchup-src')
  const dstDir = await tempDir('catchup-dst')
  const src = await syncNode(srcDir, community)
  let dst = null
  try {
    // written elsewhere while the other node was away: group-commit sized blocks
    const t0 = performance.now()
    for (let i = 0; i < lines.length; i += BLOCK) await src.store.nodeLog.append(encodeBlock(lines.slice(i, i + BLOCK)))
    const core = src.store.nodeLog.current
    log(`catchup: ${n} events in ${core.length} blocks written in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const raw1 = await rawReplication(src.store, core.key, core.length)
    log(`catchup: raw corestore replication ${(raw1.ms / 1000).toFixed(2)} s`)

    dst = await syncNode(dstDir, community)
    const t1 = performance.now()
    dst.sync.addPeerAddress({ host: '127.0.0.1', port: src.port, source: 'static' })
    let localMs = null
    await until(() => {
      if (localMs === null) {
        const l = dst.sync.status().logs.find(l => l.key === core.key.toString('hex'))
        if (l !== undefined && l.available === core.length) localMs = performance.now() - t1
      }
      return dst.store.count() === n
    }, 600_000, 'catch-up')
    const oursMs = performance.now() - t1
    const logStatus = dst.sync.status().logs.find(l => l.key === core.key.toString('hex'))
    log(`catchup: ours ${(oursMs / 1000).toFixed(2)} s (every block local after ${(localMs / 1000).toFixed(2)} s)`)

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
      ours: { ms: oursMs, eventsPerSec: n / (oursMs / 1000), invalid: logStatus?.invalidEvents ?? 0, localMs, localEventsPerSec: n / (localMs / 1000) },
      transport: { ms: transportMs, eventsPerSec: n / (transportMs / 1000) },
      raw: { ms: rawMs, eventsPerSec: n / (rawMs / 1000), flanks: [raw1.ms, raw2.ms] },
      ratio: ratio(n / (oursMs / 1000), n / (rawMs / 1000)),
      localRatio: ratio(n / (localMs / 1000), n / (rawMs / 1000)),
      transportRatio: ratio(n / (transportMs / 1000), n / (rawMs / 1000))
    }
  } finally {
    await dst?.close()
    await src.close()
    await rmrf(srcDir)
    await rmrf(dstDir)
  }
}
