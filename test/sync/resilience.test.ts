import t from 'tap'
import net from 'node:net'
import crypto from 'hypercore-crypto'
import { createCommunity, publicPart } from '../../node/src/sync/community.js'
import { admitNode, signLog } from '../../node/src/sync/admission.js'
import { encodeBlock } from '../../node/src/store/block-codec.js'
import { signer } from '../helpers/events.js'
import { createSyncNode, has, ingestAll, rawPeer, until } from './sync-helpers.js'
import { createProxy } from './proxy.js'

const peer = (port: number) => ({ host: '127.0.0.1', port, source: 'static' as const })
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

t.test('a node of another community, or an unadmitted one, connected to the same peers receives nothing', async t => {
  const community = createCommunity({ name: 'ours' })
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  const stranger = await createSyncNode(t, createCommunity({ name: 'theirs' }))
  // knows our public key, but holds no certificate
  const unadmitted = await createSyncNode(t, publicPart(community))
  for (const n of [b, stranger, unadmitted]) n.sync.addPeerAddress(peer(a.port))
  a.sync.addPeerAddress(peer(stranger.port))
  stranger.sync.addPeerAddress(peer(b.port))
  unadmitted.sync.addPeerAddress(peer(b.port))
  const e = signer().sign({ content: 'members only' })
  await ingestAll(a.store, [e])
  await until(async () => await has(b.store, e.id), 20_000, 'a -> b')
  await sleep(1500)
  for (const n of [stranger, unadmitted]) {
    t.notOk(await has(n.store, e.id), 'the outsider did not get the event')
    t.equal(n.store.count(), 0)
    t.notOk(n.sync.logs.has(a.store.nodeLog.current.key), 'nor even the log key')
    t.equal((n.sync.status() as { peers: Array<{ connected: boolean }> }).peers.filter(p => p.connected).length, 0, 'no session became ready')
  }
  t.notOk(a.sync.logs.has(unadmitted.store.nodeLog.current.key), 'the unadmitted node\'s log is not carried')
  t.equal(unadmitted.sync.admitted, false)
})

t.test('forged and malformed events inside an admitted log are skipped and counted; duplicates dropped', async t => {
  const community = createCommunity()
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  const c = await createSyncNode(t, community)
  const s = signer()
  const good = s.sign({ content: 'good' })
  const forgedSig = { ...s.sign({ content: 'forged' }), sig: s.sign({ content: 'other' }).sig }
  const forgedContent = { ...s.sign({ content: 'original' }), content: 'tampered' }
  const alsoGood = s.sign({ content: 'also good' })
  // raw block straight into A's log, bypassing A's ingest checks (a malicious or broken writer)
  await a.store.nodeLog.append(encodeBlock([JSON.stringify(good), JSON.stringify(forgedSig), '{not json', JSON.stringify(forgedContent), JSON.stringify(alsoGood)]))
  // the same event written on two nodes: one copy
  const shared = s.sign({ content: 'shared' })
  await ingestAll(a.store, [shared])
  await ingestAll(c.store, [shared])
  b.sync.addPeerAddress(peer(a.port))
  b.sync.addPeerAddress(peer(c.port))
  await until(async () => await has(b.store, alsoGood.id) && await has(b.store, shared.id), 20_000, 'good events on b')
  await until(() => (b.sync.status() as { logs: Array<{ lag: number }> }).logs.every(l => l.lag === 0), 10_000, 'b has every block')
  t.ok(await has(b.store, good.id))
  t.notOk(await has(b.store, forgedSig.id), 'bad signature rejected')
  t.notOk(await has(b.store, forgedContent.id), 'tampered content rejected')
  t.equal(b.store.invalidEvents(a.store.nodeLog.current.key.toString('hex')), 3, 'three invalid lines counted in that log')
  t.equal(b.store.count(), 3, 'good, also good and shared once')
  const st = b.sync.status() as { logs: Array<{ key: string, invalidEvents: number }> }
  t.equal(st.logs.find(l => l.key === a.store.nodeLog.current.key.toString('hex'))?.invalidEvents, 3, '/api/sync shows them')
})

t.test('garbage, an unadmitted log and protocol violations: the peer is dropped, the node carries on', async t => {
  const community = createCommunity()
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  b.sync.addPeerAddress(peer(a.port))

  // random bytes instead of a Noise handshake
  const raw = net.connect(a.port, '127.0.0.1')
  raw.on('error', () => {})
  await new Promise(resolve => raw.once('connect', resolve))
  raw.write(crypto.randomBytes(128 * 1024))
  await new Promise(resolve => raw.once('close', resolve))
  t.pass('a raw garbage connection is closed')

  // a proper handshake, then garbage frames
  const g = await rawPeer(a.port, community, true)
  await g.opened
  g.stream.write(Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]))
  g.stream.write(crypto.randomBytes(1024))
  await g.closed
  t.pass('garbage after the handshake closes the session')

  // an admitted peer offering a log no admitted node signed, then a properly signed one
  const p = await rawPeer(a.port, community, true)
  await p.opened
  const outsider = crypto.keyPair()
  const badLog = crypto.randomBytes(32)
  const goodLog = crypto.randomBytes(32)
  p.sendLogs([
    { log: badLog, node: outsider.publicKey, admission: Buffer.alloc(0), logSig: signLog(community, badLog, outsider.secretKey) },
    { log: crypto.randomBytes(32), node: p.keyPair.publicKey, admission: admitNode(community, p.keyPair.publicKey), logSig: crypto.randomBytes(64) },
    { log: goodLog, node: p.keyPair.publicKey, admission: admitNode(community, p.keyPair.publicKey), logSig: signLog(community, goodLog, p.keyPair.secretKey) }
  ])
  await until(() => a.sync.logs.has(goodLog), 5000, 'the admitted log')
  t.notOk(a.sync.logs.has(badLog), 'an unadmitted log is never opened')
  t.equal(a.sync.logs.size, 3, 'a carries its own, b\'s and the admitted one')
  const view = (a.sync.status() as { peers: Array<{ key: string, logsRefused: number }> }).peers.find(x => x.key === p.keyPair.publicKey.toString('hex'))
  t.equal(view?.logsRefused, 2, 'refused offers are counted per peer')
  // a flood of refused offers is hostile: dropped
  for (let i = 0; i < 5; i++) {
    p.sendLogs(Array.from({ length: 256 }, () => { const l = crypto.randomBytes(32); return { log: l, node: outsider.publicKey, admission: Buffer.alloc(0), logSig: signLog(community, l, outsider.secretKey) } }))
  }
  await p.closed
  t.pass('a peer flooding unadmitted logs is dropped')

  // a peer of the right channel without a certificate is dropped at the hello
  const u = await rawPeer(a.port, community, false)
  await u.closed
  t.pass('an unadmitted peer is dropped')

  const e = signer().sign({ content: 'still syncing' })
  await ingestAll(a.store, [e])
  await until(async () => await has(b.store, e.id), 10_000, 'a -> b after all that')
  t.ok((a.sync.status() as { droppedPeers: number }).droppedPeers >= 1)
})

t.test('partition and heal, and a half-open link, converge with nothing lost', async t => {
  const community = createCommunity()
  const a = await createSyncNode(t, community, { idleTimeoutMs: 2000 })
  const b = await createSyncNode(t, community, { idleTimeoutMs: 2000 })
  const proxy = await createProxy(t, a.port)
  b.sync.addPeerAddress(peer(proxy.port))
  const s = signer()
  const first = s.sign({ content: 'before' })
  await ingestAll(a.store, [first])
  await until(async () => await has(b.store, first.id), 20_000, 'initial sync')

  proxy.set('refuse')
  const onA = Array.from({ length: 30 }, (_, i) => s.sign({ content: `a during partition ${i}` }))
  const onB = Array.from({ length: 30 }, (_, i) => s.sign({ content: `b during partition ${i}` }))
  await ingestAll(a.store, onA)
  await ingestAll(b.store, onB)
  await sleep(1000)
  t.notOk(await has(b.store, onA[0]?.id as string), 'nothing crosses the partition')
  proxy.set('forward')
  await until(async () => await has(b.store, onA[29]?.id as string) && await has(a.store, onB[29]?.id as string), 40_000, 'heal')
  t.equal(a.store.count(), 61)
  t.equal(b.store.count(), 61)

  // the link goes silent without closing: keepalive timeouts drop it, the dialer comes back
  proxy.set('blackhole')
  const silent = s.sign({ content: 'during the black hole' })
  await ingestAll(a.store, [silent])
  await until(() => (a.sync.status() as { peers: unknown[] }).peers.length === 0, 10_000, 'a drops the dead link')
  proxy.set('forward')
  await until(async () => await has(b.store, silent.id), 40_000, 'b reconnects and catches up')
  t.pass('converged after a half-open link')
})
