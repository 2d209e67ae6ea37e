import t from 'tap'
import dgram from 'node:dgram'
import createTestnet from 'hyperdht/testnet.js'
import { complaints, exchange, settledPair, sleep, swarmPeer, topic } from './swarm-helpers.js'

/** A loopback UDP port nothing listens on (bound once to learn it, then released). */
async function freeUdpPort (): Promise<number> {
  const sock = dgram.createSocket('udp4')
  await new Promise<void>(resolve => { sock.bind(0, '127.0.0.1', resolve) })
  const { port } = sock.address()
  await new Promise<void>(resolve => { sock.close(resolve) })
  return port
}

t.test('an uplink that appears later: no connection until refresh(), then connected', async t => {
  // Both swarms join while their bootstrap does not answer (the uplink is down)...
  const port = await freeUdpPort()
  const bootstrap = [{ host: '127.0.0.1', port }]
  const T = topic()
  const a = swarmPeer(T, bootstrap, { relookupMs: 1000 })
  const b = swarmPeer(T, bootstrap, { relookupMs: 1000 })
  t.teardown(async () => { await Promise.all([a.transport.close(), b.transport.close()]) })
  const t0 = Date.now()
  await Promise.all([a.transport.join(), b.transport.join()])
  t.comment(`join() resolved after ${Date.now() - t0} ms with no DHT answering`)
  await sleep(1500) // past the second lookup
  t.equal(a.transport.dht?.nodes.length, 0, 'A\'s DHT found nobody while the bootstrap is down')

  // ...then the DHT appears on that address without any interface change
  const testnet = await createTestnet(3, { port })
  t.teardown(async () => { await testnet.destroy() })
  t.same(testnet.bootstrap, bootstrap, 'the testnet bootstrap took the address the swarms were given')
  await sleep(6000)
  t.equal(a.conns.length + b.conns.length, 0, 'hyperswarm does not notice the DHT by itself (6 s later: no connection)')

  // The nudge (no live connection: the swarm is rebuilt)
  const t1 = Date.now()
  await Promise.all([a.transport.refresh(), b.transport.refresh()])
  const [ab, ba] = await settledPair(a, b, 20000)
  t.comment(`connected ${Date.now() - t1} ms after refresh()`)
  const [gotA, gotB] = await Promise.all([exchange(ab, 'ping A'), exchange(ba, 'ping B')])
  t.same([gotA, gotB], ['ping B', 'ping A'], 'bytes flow both ways')
  for (const p of [a, b]) t.same(complaints(p.records), [], 'no warnings or errors logged')
})

t.test('refresh() when not joined is a no-op; close() is final', async t => {
  const p = swarmPeer(topic(), [{ host: '127.0.0.1', port: await freeUdpPort() }])
  await p.transport.refresh()
  t.equal(p.transport.state, 'idle')
  t.equal(p.transport.dht, null, 'refresh did not start a DHT node')
  await p.transport.close()
  await p.transport.join()
  t.equal(p.transport.state, 'closed', 'join after close does nothing')
  t.equal(p.transport.dht, null)
})
