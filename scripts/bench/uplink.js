// Uplink bench: a site holds n events written while it was offline (ingested as phones write
// them: verified, group-committed). Measured: from "uplink up" (the site joins the community's
// topic on a loopback hyperdht testnet, where the remote peer is already joined) until the remote
// has every event verified and indexed; next to the same n events over the LAN transport (a TCP
// static peer), in the same run, LAN before and after the swarm runs.
import { join } from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { DIST, rmrf, silentLog, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
import { ratio } from './lib/stats.js'
import { syncNode, until } from './catchup.js'

export async function run (opts = {}) {
  const n = opts.n ?? 10_000
  const log = opts.log ?? (() => {})
  const { lines } = await signedEvents(n, { log })
  const { createCommunity } = await import(join(DIST, 'sync', 'community.js'))
  const { SwarmTransport } = await import(join(DIST, 'sync', 'swarm.js'))
  const { swarmTopic } = await import(join(DIST, 'sync', 'protocol.js'))
  const community = createCommunity({ name: 'bench uplink' })
  const testnet = await createTestnet(3)
  const bootstrap = testnet.bootstrap.map(b => ({ host: b.host, port: b.port }))
  const dirs = []
  const nodes = []
  const transports = []
  const node = async (name) => {
    const dir = await tempDir(`uplink-${name}`)
    dirs.push(dir)
    const x = await syncNode(dir, community)
    nodes.push(x)
    return x
  }
  const swarmOf = (x) => {
    const t = new SwarmTransport({ topic: swarmTopic(community.publicKey), keyPair: x.sync.keyPair, bootstrap, log: silentLog() })
    t.on('connection', (stream, info) => { x.sync.handleStream(stream, { remotePublicKey: info.remotePublicKey, source: 'swarm' }) })
    transports.push(t)
    return t
  }
  try {
    const site = await node('site')
    const t0 = performance.now()
    const results = await Promise.all(lines.map(l => site.store.ingest(JSON.parse(l), { type: 'client' })))
    if (results.some(r => !r.ok)) throw new Error('uplink bench: an event was refused')
    const blocks = site.store.nodeLog.current.length
    log(`uplink: ${n} pending events in ${blocks} blocks, ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const lan = async () => {
      const remote = await node('lan')
      const t1 = performance.now()
      remote.sync.addPeerAddress({ host: '127.0.0.1', port: site.port, source: 'static' })
      await until(() => remote.store.count() === n, 600_000, 'LAN delivery')
      const ms = performance.now() - t1
      log(`uplink: LAN (TCP static peer) ${(ms / 1000).toFixed(2)} s`)
      return ms
    }
    const swarm = async () => {
      // the wider community's peer is already on the topic; the site's uplink comes up at t1
      const remote = await node('swarm')
      const remoteSwarm = swarmOf(remote)
      await remoteSwarm.join()
      const siteSwarm = swarmOf(site)
      const t1 = performance.now()
      await siteSwarm.join()
      let connectedMs = null
      await until(() => {
        if (connectedMs === null && remote.sync.status().peers.some(p => p.connected && p.source === 'swarm')) connectedMs = performance.now() - t1
        return remote.store.count() === n
      }, 600_000, 'swarm delivery')
      const ms = performance.now() - t1
      log(`uplink: swarm ${(ms / 1000).toFixed(2)} s (session after ${(connectedMs / 1000).toFixed(2)} s)`)
      await siteSwarm.leave()
      await remoteSwarm.close()
      return { ms, connectedMs }
    }
    const lan1 = await lan()
    const sw1 = await swarm()
    const sw2 = await swarm()
    const lan2 = await lan()
    const lanMs = (lan1 + lan2) / 2
    const swMs = (sw1.ms + sw2.ms) / 2
    const connectedMs = (sw1.connectedMs + sw2.connectedMs) / 2
    return {
      n,
      blocks,
      lan: { ms: lanMs, eventsPerSec: n / (lanMs / 1000), flanks: [lan1, lan2] },
      swarm: { ms: swMs, eventsPerSec: n / (swMs / 1000), connectedMs, runs: [sw1.ms, sw2.ms], transferMs: swMs - connectedMs },
      ratio: ratio(n / (swMs / 1000), n / (lanMs / 1000)),
      transferRatio: ratio(n / ((swMs - connectedMs) / 1000), n / (lanMs / 1000))
    }
  } finally {
    for (const t of transports) await t.close().catch(() => {})
    for (const x of nodes.reverse()) await x.close().catch(() => {})
    await testnet.destroy()
    for (const d of dirs) await rmrf(d)
  }
}
