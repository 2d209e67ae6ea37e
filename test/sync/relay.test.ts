import t from 'tap'
import crypto from 'hypercore-crypto'
import { createCommunity, publicPart } from '../../node/src/sync/community.js'
import { admitNode, signLog, verifyAdmission, verifyEntry, verifyPeer, verifyRelay, decodeAdmission, encodeAdmission } from '../../node/src/sync/admission.js'
import { encodeBlock } from '../../node/src/store/block-codec.js'
import { signer } from '../helpers/events.js'
import { createSyncNode, has, ingestAll, until } from './sync-helpers.js'

const peer = (port: number) => ({ host: '127.0.0.1', port, source: 'static' as const })

t.test('a relay certificate admits a connection but never a log', async t => {
  const c = createCommunity()
  const relay = crypto.keyPair()
  const node = crypto.keyPair()
  const relayCert = admitNode(c, relay.publicKey, 'relay')
  const nodeCert = admitNode(c, node.publicKey)
  t.ok(verifyPeer(c, relay.publicKey, relayCert), 'a relay may hold a session')
  t.ok(verifyRelay(publicPart(c), relay.publicKey, relayCert), 'checked with the public part only')
  t.notOk(verifyAdmission(c, relay.publicKey, relayCert), 'a relay certificate is not a node certificate')
  t.notOk(verifyRelay(c, node.publicKey, nodeCert), 'nor the other way round')
  t.notOk(verifyPeer(c, crypto.keyPair().publicKey, relayCert), 'a certificate is for one key')
  const log = crypto.randomBytes(32)
  t.notOk(verifyEntry(c, { log, node: relay.publicKey, admission: relayCert, logSig: signLog(c, log, relay.secretKey) }), 'a log signed by a relay is refused')
  t.ok(verifyEntry(c, { log, node: node.publicKey, admission: nodeCert, logSig: signLog(c, log, node.secretKey) }), 'a node\'s log is admitted')
  t.ok(verifyPeer(createCommunity({ open: true }), relay.publicKey, null), 'an open community needs no certificate')
  const file = decodeAdmission(encodeAdmission({ community: c.publicKey, node: relay.publicKey, signature: relayCert, role: 'relay' }))
  t.equal(file.role, 'relay', 'the certificate file says it is for a relay')
  t.equal(decodeAdmission(encodeAdmission({ community: c.publicKey, node: node.publicKey, signature: nodeCert })).role, 'node', 'older files are node certificates')
  t.throws(() => decodeAdmission(JSON.stringify({ type: 'outpost-admission', version: 1, community: 'a'.repeat(64), node: 'b'.repeat(64), signature: 'c'.repeat(128), role: 'admin' })), /role must be/)
})

t.test('a relay carries a hotspot\'s log, refuses client events, and cannot inject a log of its own', async t => {
  const community = createCommunity({ name: 'closed' })
  const a = await createSyncNode(t, community)
  const r = await createSyncNode(t, community, { relay: true })
  t.equal(r.store.nodeLog.logs.length, 0, 'the relay has no log of its own')
  t.equal(r.sync.admitted, true, 'its relay certificate admits it')
  t.equal(r.sync.writer, false, 'but it writes nothing')
  r.sync.addPeerAddress(peer(a.port))

  const s = signer()
  const e = s.sign({ content: 'from the hotspot' })
  await ingestAll(a.store, [e])
  await until(async () => await has(r.store, e.id), 20_000, 'a -> relay')
  t.pass('the relay carries the hotspot\'s events')
  const refused = await r.store.ingest(s.sign({ content: 'to the relay' }), { type: 'client' })
  t.equal(refused.ok, false)
  t.match(refused.message, /^restricted: /, 'a client event is refused with a NIP-01 reason')
  const st = r.sync.status() as { logs: Array<{ own: boolean }>, role: string }
  t.equal(st.role, 'relay')
  t.ok(st.logs.length >= 1 && st.logs.every(l => !l.own), 'every log it holds is somebody else\'s')

  // a tampered relay writes a log and announces it, signed with its own key and certificate
  const forged = r.store.corestore.get({ name: 'forged-log' })
  await forged.ready()
  const injected = s.sign({ content: 'injected by the relay' })
  await forged.append(encodeBlock([JSON.stringify(injected)]))
  await r.sync.logs.addOwn({ log: forged.key, node: r.keyPair.publicKey, admission: admitNode(community, r.keyPair.publicKey, 'relay'), logSig: signLog(community, forged.key, r.keyPair.secretKey) })
  const refusals = (): number => (a.sync.status() as { peers: Array<{ key: string, logsRefused: number }> }).peers.find(p => p.key === r.keyPair.publicKey.toString('hex'))?.logsRefused ?? 0
  await until(() => refusals() >= 1, 10_000, 'the hotspot refusing the forged log')
  t.notOk(a.sync.logs.has(forged.key), 'the hotspot never opens the relay\'s log')
  // the session stays up and keeps carrying the real logs
  const e2 = s.sign({ content: 'after the forgery' })
  await ingestAll(a.store, [e2])
  await until(async () => await has(r.store, e2.id), 20_000, 'a -> relay after the forgery')
  t.notOk(await has(a.store, injected.id), 'the injected event never reached the hotspot')
  await forged.close()
})

t.test('relays chain: hotspot A -> relay -> relay -> hotspot B; an open community needs no certificate', async t => {
  for (const open of [false, true]) {
    const community = createCommunity({ open })
    const a = await createSyncNode(t, community)
    // in the open community the relays hold no certificate at all
    const r1 = await createSyncNode(t, open ? publicPart(community) : community, { relay: true })
    const r2 = await createSyncNode(t, open ? publicPart(community) : community, { relay: true })
    const b = await createSyncNode(t, community)
    r1.sync.addPeerAddress(peer(a.port))
    r2.sync.addPeerAddress(peer(r1.port))
    b.sync.addPeerAddress(peer(r2.port))
    const e = signer().sign({ content: `across two relays (open: ${String(open)})` })
    await ingestAll(a.store, [e])
    await until(async () => await has(b.store, e.id), 20_000, `a -> r1 -> r2 -> b (open: ${String(open)})`)
    t.pass(`${open ? 'open' : 'closed'} community: the event crossed two relays`)
    for (const r of [r1, r2]) t.equal(r.sync.logs.entries().filter(x => x.node.equals(r.keyPair.publicKey)).length, 0, 'no relay announced a log of its own')
    t.same(b.sync.logs.entries().map(x => x.node.toString('hex')).sort(), [a.keyPair.publicKey, b.keyPair.publicKey].map(k => k.toString('hex')).sort(), 'B carries the two hotspots\' logs only')
    await Promise.all([a, r1, r2, b].map(async n => await n.close()))
  }
})
