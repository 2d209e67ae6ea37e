import t from 'tap'
import createTestnet from 'hyperdht/testnet.js'
import { loopbackOnly } from '../../node/src/sync/swarm.js'
import { complaints, exchange, settledPair, sleep, swarmPeer, topic } from './swarm-helpers.js'

t.test('loopbackOnly: only an all-loopback bootstrap list binds the DHT to 127.0.0.1', async t => {
  t.equal(loopbackOnly(undefined), false, 'public bootstrap')
  t.equal(loopbackOnly([]), false, 'empty = public bootstrap')
  t.equal(loopbackOnly([{ host: '127.0.0.1', port: 1 }, { host: '127.8.9.10', port: 2 }, { host: 'localhost', port: 3 }]), true)
  t.equal(loopbackOnly([{ host: '127.0.0.1', port: 1 }, { host: '10.0.0.1', port: 2 }]), false, 'one remote node')
  t.equal(loopbackOnly([{ host: 'bootstrap.example', port: 1 }]), false, 'a name')
})

t.test('swarms built from a bootstrap list only: connect on the topic, not across topics, leave, flap', async t => {
  // 3 nodes: the smallest testnet, where a plain 0.0.0.0-bound hyperdht does not connect (README)
  const testnet = await createTestnet(3)
  t.teardown(async () => { await testnet.destroy() })
  const bootstrap = testnet.bootstrap.map(b => ({ host: b.host, port: b.port }))
  t.ok(loopbackOnly(bootstrap), `testnet bootstrap on loopback: ${JSON.stringify(bootstrap)}`)

  const T = topic()
  const a = swarmPeer(T, bootstrap)
  const b = swarmPeer(T, bootstrap)
  const c = swarmPeer(topic(), bootstrap)
  t.teardown(async () => { await Promise.all([a, b, c].map(async p => { await p.transport.close() })) })

  const started = Date.now()
  // All three at the same moment: each lookup runs before the others announced, so only the
  // transport's second lookup (5 s later) can find the peer
  await Promise.all([a.transport.join(), b.transport.join(), c.transport.join()])
  t.equal(a.transport.state, 'joined')
  const [ab, ba] = await settledPair(a, b, 20000)
  t.comment(`connected ${Date.now() - started} ms after join`)
  t.ok(ab.remotePublicKey.equals(b.keyPair.publicKey), 'A\'s stream is authenticated with B\'s public key')
  t.ok(ba.remotePublicKey.equals(a.keyPair.publicKey), 'B\'s stream is authenticated with A\'s public key')
  t.ok(a.conns.every(x => x.info.source === 'swarm' && x.info.remotePublicKey.equals(x.stream.remotePublicKey)), 'info matches the stream')
  const [atA, atB] = await Promise.all([exchange(ab, 'hello from A'), exchange(ba, 'hello from B')])
  t.equal(atA, 'hello from B', 'A got B\'s bytes')
  t.equal(atB, 'hello from A', 'B got A\'s bytes')

  // Same DHT, other topic: C gets nothing (and nobody gets C)
  await sleep(2000)
  t.equal(c.conns.length, 0, 'the peer on another topic got no connection')
  t.notOk(a.conns.some(x => x.info.remotePublicKey.equals(c.keyPair.publicKey)), 'A never met C')
  t.equal(a.transport.connections, 1, 'A has exactly one connection')

  // refresh() with a live connection nudges the swarm and keeps the connection
  await a.transport.refresh()
  t.ok(a.records.some(r => r.msg === 'swarm refreshed'), 'refreshed in place')
  t.notOk(ab.destroyed, 'the live connection survived refresh()')
  t.same(await Promise.all([exchange(ab, 'still A'), exchange(ba, 'still B')]), ['still B', 'still A'], 'and still carries bytes')

  // leave: A's connection closes on both sides, A holds no DHT node any more
  const closedAtB = new Promise<void>(resolve => { ba.once('close', () => { resolve() }) })
  await a.transport.leave()
  await a.transport.leave() // idempotent
  t.equal(a.transport.state, 'idle')
  t.equal(a.transport.connections, 0, 'no connection after leave')
  t.equal(a.transport.dht, null, 'no DHT node after leave')
  t.ok(ab.destroyed, 'A\'s stream destroyed')
  await closedAtB
  t.pass('B saw the connection close')
  const attemptsBefore = a.conns.length + b.conns.length
  await sleep(3000)
  t.equal(a.conns.length + b.conns.length, attemptsBefore, 'nothing reconnects while A is out')
  t.equal(b.transport.connections, 0, 'B has no connection left')

  // flapping: join / leave / join reconnects every time
  for (let round = 1; round <= 2; round++) {
    const t0 = Date.now()
    await a.transport.join()
    const [x, y] = await settledPair(a, b, 20000)
    const [gotA, gotB] = await Promise.all([exchange(x, `round ${round} A`), exchange(y, `round ${round} B`)])
    t.same([gotA, gotB], [`round ${round} B`, `round ${round} A`], `round ${round}: bytes flow both ways`)
    t.comment(`round ${round}: reconnected in ${Date.now() - t0} ms`)
    if (round === 1) await a.transport.leave()
  }
  for (const p of [a, b, c]) t.same(complaints(p.records), [], 'no warnings or errors logged')
})
