import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { ensureBuilt } from '../helpers/node-process.js'
import { IS_ROOT, makeSites, spawnIn, udpCounters, type Child, type Sites, type UdpCounters } from './netns.js'

// --swarm auto end to end: a site node (UplinkMonitor + SwarmTransport, child process in its
// own namespace) and the "internet" (hyperdht testnet + peer B in another), joined by a veth.
// The uplink is the site's default route. The DHT is what a private deployment runs: a
// HyperDHT.bootstrapper plus two persistent nodes (fewer than three DHT nodes in routing tables
// and firewalled peers cannot connect: README, "Swarm").
interface World { net: Sites, inet: Child, site: Child, aKey: string, bKey: string }

/** Both namespaces, the internet (DHT + B on a fresh topic) and the site node in `mode`, started offline. */
async function world (t: Test, mode: 'auto' | 'on'): Promise<World> {
  ensureBuilt()
  const net = makeSites(t)
  const topic = randomBytes(32).toString('hex')
  const inet = spawnIn(t, net.inet, 'internet.mjs', { host: net.dhtHost, topic, size: 3, bootstrapper: true })
  const ready = await inet.waitFor(e => e.event === 'ready', 15000, 'testnet', 0)
  const site = spawnIn(t, net.site, 'site.mjs', { bootstrap: ready.bootstrap, topic, mode, intervalMs: 500, probeTimeoutMs: 500 })
  const aKey = (await site.waitFor(e => e.event === 'key', 10000, 'key', 0)).publicKey as string
  t.equal((await site.waitFor(e => e.event === 'started', 10000, 'start', 0)).state, 'offline', 'starts offline (no default route)')
  return { net, inet, site, aKey, bKey: ready.publicKey as string }
}

t.test('swarm follows the uplink: nothing sent while offline, joins and meets B when online, leaves cleanly, flaps', { skip: !IS_ROOT && 'needs root (ip netns)' }, async t => {
  const { net, inet, site, aKey, bKey } = await world(t, 'auto')

  const idle = async (ms: number, label: string): Promise<{ udp: UdpCounters, cpuUs: number }> => {
    const u0 = udpCounters(net.site)
    site.send(`measure ${ms}`)
    const m = await site.waitFor(e => e.event === 'measure', ms + 5000, 'measure')
    const u1 = udpCounters(net.site)
    const udp = { in: u1.in - u0.in, out: u1.out - u0.out, noPorts: u1.noPorts - u0.noPorts }
    const cpuUs = m.cpuUs as number
    t.comment(`${label}: UDP sent ${udp.out}, received ${udp.in}, to closed ports ${udp.noPorts}; ${(cpuUs / 1000).toFixed(1)} ms CPU in ${m.ms as number} ms (${(cpuUs / 10 / (m.ms as number)).toFixed(3)}% of a core)`)
    return { udp, cpuUs }
  }
  const goOnline = async (round: number): Promise<void> => {
    const t0 = Date.now()
    const conn = site.waitFor(e => e.event === 'connection' && e.remotePublicKey === bKey, 25000, 'connection to B')
    const reply = site.waitFor(e => e.event === 'data' && e.text === 'B got: hello from A', 30000, 'B\'s answer')
    const atB = inet.waitFor(e => e.event === 'connection' && e.remotePublicKey === aKey, 30000, 'connection from A')
    net.addDefaultRoute()
    const [, , connected] = await Promise.all([reply, atB, conn.then(() => Date.now())])
    t.comment(`round ${round}: connected to B ${connected - t0} ms after the route appeared`)
    t.pass(`round ${round}: online, joined, B authenticated on both ends, bytes both ways`)
  }
  const goOffline = async (round: number): Promise<void> => {
    const left = site.waitFor(e => e.event === 'left', 10000, 'left')
    const t0 = Date.now()
    net.delDefaultRoute()
    t.same(await left, { event: 'left', connections: 0, dht: false }, `round ${round}: offline: left, no connection, no DHT node`)
    t.comment(`round ${round}: left ${Date.now() - t0} ms after the route went`)
  }

  const before = await idle(5000, 'offline, never joined')
  t.same(before.udp, { in: 0, out: 0, noPorts: 0 }, 'offline before any uplink: not one UDP datagram')

  await goOnline(1)
  const online = await idle(3000, 'online, connected to B')
  t.ok(online.udp.out > 0 && online.udp.in > 0, 'online: the swarm does talk (the counters work)')
  await goOffline(1)

  const after = await idle(10000, 'offline after a join and a leave')
  // B's side of the link still exists in this topology (only the site's route went), so B's
  // keepalives for the dead connection still arrive until B gives up: they find no socket.
  t.equal(after.udp.out, 0, 'offline after leave: the site sends not one UDP datagram')
  t.equal(after.udp.in, 0, 'offline after leave: no socket of the site receives anything (the stragglers hit closed ports)')
  t.ok(after.cpuUs < 200000, 'offline after leave: under 2% of a core (sanity bound; the figure is in the comment)')

  await goOnline(2)
  await goOffline(2)

  const complaints = (c: Child): unknown[] => c.logs().filter(l => l.level >= 50)
  t.same(complaints(site), [], 'site: no errors logged')
  const warnings = site.logs().filter(l => l.level === 40)
  t.ok(warnings.length <= 2, `site: no warning storm (${warnings.length} warnings)`)
})

// --swarm on: the node stays joined while offline; the uplink then appears without any
// interface change (a default route is added), which hyperdht does not notice by itself.
t.test('swarm on: joined offline, the uplink appears without an interface change, refresh() connects', { skip: !IS_ROOT && 'needs root (ip netns)' }, async t => {
  const { net, site, bKey } = await world(t, 'on')
  await new Promise(resolve => setTimeout(resolve, 2000))
  t.notOk(site.events.some(e => e.event === 'connection'), 'joined while offline: nobody to meet')

  const t0 = Date.now()
  const conn = site.waitFor(e => e.event === 'connection' && e.remotePublicKey === bKey, 20000, 'connection to B')
  const reply = site.waitFor(e => e.event === 'data' && e.text === 'B got: hello from A', 25000, 'B\'s answer')
  const refreshed = site.waitFor(e => e.event === 'refreshed', 10000, 'refresh')
  net.addDefaultRoute()
  t.same(await refreshed, { event: 'refreshed', state: 'joined' }, 'uplink online: refreshed, still joined')
  await Promise.all([conn, reply])
  t.comment(`connected to B ${Date.now() - t0} ms after the route appeared`)
  const stayed = site.waitFor(e => e.event === 'still-joined', 10000, 'offline report')
  net.delDefaultRoute()
  t.same(await stayed, { event: 'still-joined', state: 'joined' }, 'uplink gone: --swarm on stays joined')
  t.same(site.logs().filter(l => l.level >= 50), [], 'site: no errors logged')
})
