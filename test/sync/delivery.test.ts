import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import { createCommunity } from '../../node/src/sync/community.js'
import { DeliveryTracker, isWider } from '../../node/src/sync/delivery.js'
import { SwarmTransport, type SwarmConnectionInfo } from '../../node/src/sync/swarm.js'
import { signer } from '../helpers/events.js'
import { testLogger } from '../helpers/log.js'
import { createSyncNode, has, ingestAll, until, type SyncNode } from './sync-helpers.js'
import { topic } from './swarm-helpers.js'

t.test('same site or wider community', async t => {
  t.equal(isWider('swarm', false), true)
  for (const s of ['lan', 'static', 'incoming'] as const) t.equal(isWider(s, false), false, `${s} is the same site`)
  t.equal(isWider('static', true), true, 'a relay carries data off the site')
})

// Site A with a LAN neighbour B (TCP, same site) and, later, a peer C of the wider community
// met through the swarm (loopback DHT). Real stores, real replication.
t.test('delivery view: what has not left the site, and the last contact with the wider community', async t => {
  const testnet = await createTestnet(3)
  t.teardown(async () => { await testnet.destroy() })
  const bootstrap = testnet.bootstrap.map(b => ({ host: b.host, port: b.port }))
  const community = createCommunity({ name: 'delivery' })
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  const c = await createSyncNode(t, community)
  const track = async (n: SyncNode): Promise<DeliveryTracker> => {
    const d = new DeliveryTracker({ sync: n.sync, dataDir: n.dir, log: testLogger() })
    await d.start()
    return d
  }
  let da = await track(a)
  t.teardown(async () => { await da.close() })
  t.same(da.summary, { notLeftSince: null, pendingBlocks: 0, lastWiderContact: null, text: ['every post written here has left this site', 'no contact with the wider community yet'] }, 'nothing written, nobody met')

  // A writes; its LAN neighbour B gets it: still nothing has left the site
  b.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  const s = signer()
  const before1 = Date.now()
  const e1 = s.sign({ content: 'first post at the site' })
  await ingestAll(a.store, [e1])
  await until(async () => await has(b.store, e1.id), 10_000, 'B has e1')
  await until(async () => { await da.sample(); return (da.status().logs as Array<{ own: boolean, peers: Array<{ key: string, length: number }> }>).some(l => l.own && l.peers.some(p => p.key === b.keyPair.publicKey.toString('hex') && p.length >= 1)) }, 5000, 'A sees B holding its log')
  const sum1 = da.summary
  t.ok(sum1.notLeftSince !== null, 'posts pending')
  const since1 = Date.parse(sum1.notLeftSince as string)
  t.ok(since1 >= before1 - 1500 && since1 <= Date.now(), `dated when written here (${sum1.notLeftSince as string})`)
  t.ok(sum1.pendingBlocks >= 1)
  t.match(sum1.text[0], /^posts written here since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ s ago\) have not left this site yet$/)
  t.equal(sum1.lastWiderContact, null, 'a LAN/static peer is not the wider community')
  const peersA = da.status().peers as Array<{ key: string, source: string, wider: boolean }>
  t.match(peersA.find(p => p.key === b.keyPair.publicKey.toString('hex')), { source: 'incoming', wider: false })

  // C, a peer over the internet swarm, gets it: everything has left
  const T = topic()
  const swarmOf = (n: SyncNode): SwarmTransport => {
    const x = new SwarmTransport({ topic: T, keyPair: n.keyPair, bootstrap, log: testLogger(), relookupMs: 1000 })
    x.on('connection', (stream: NoiseSecretStream, info: SwarmConnectionInfo) => { n.sync.handleStream(stream, { remotePublicKey: info.remotePublicKey, source: 'swarm' }) })
    t.teardown(async () => { await x.close() })
    return x
  }
  const sa = swarmOf(a)
  const sc = swarmOf(c)
  await Promise.all([sa.join(), sc.join()])
  await until(async () => await has(c.store, e1.id), 20_000, 'C has e1 through the swarm')
  await until(async () => { await da.sample(); return da.summary.notLeftSince === null }, 5000, 'A sees C holding everything')
  const sum2 = da.summary
  t.equal(sum2.pendingBlocks, 0)
  t.equal(sum2.text[0], 'every post written here has left this site')
  t.ok(sum2.lastWiderContact !== null && Date.now() - Date.parse(sum2.lastWiderContact) < 3000, 'in contact with the wider community now')

  // the uplink goes: C is gone; A keeps writing (B still gets it)
  await Promise.all([sa.leave(), sc.leave()])
  await until(() => !a.sync.peerSources().has(c.keyPair.publicKey.toString('hex')), 10_000, 'C gone')
  await new Promise(resolve => setTimeout(resolve, 1100))
  const contact = Date.parse(da.summary.lastWiderContact as string)
  const before2 = Date.now()
  const e2 = s.sign({ content: 'written while offline' })
  await ingestAll(a.store, [e2])
  await until(async () => await has(b.store, e2.id), 10_000, 'B has e2')
  await until(async () => { await da.sample(); return da.summary.notLeftSince !== null }, 5000, 'A sees e2 pending')
  const sum3 = da.summary
  const since3 = Date.parse(sum3.notLeftSince as string)
  t.ok(since3 >= before2 - 1100 && since3 <= Date.now(), `pending since e2 was written (${sum3.notLeftSince as string}), not since e1`)
  t.equal(Date.parse(sum3.lastWiderContact as string), contact, 'the last wider contact stays where it was')
  t.match(sum3.text[1], /^last contact with the wider community: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ s ago\)$/)

  // restart: the view survives (persisted in the data dir)
  await da.close()
  const file = JSON.parse(await readFile(path.join(a.dir, 'delivery.json'), 'utf8')) as { version: number }
  t.equal(file.version, 1, 'delivery.json written')
  da = await track(a)
  t.same(da.summary.notLeftSince, sum3.notLeftSince, 'still pending since e2, after a restart')
  t.same(da.summary.lastWiderContact, sum3.lastWiderContact, 'last wider contact remembered')
  const cEntry = (da.status().peers as Array<{ key: string, wider: boolean }>).find(p => p.key === c.keyPair.publicKey.toString('hex'))
  t.match(cEntry, { wider: true }, 'C remembered as the wider community')
})

t.test('a damaged delivery.json is reported and replaced, never fatal; well-formed entries survive', async t => {
  const community = createCommunity({ name: 'delivery file' })
  const a = await createSyncNode(t, community)
  const file = path.join(a.dir, 'delivery.json')
  const start = async (): Promise<DeliveryTracker> => {
    const d = new DeliveryTracker({ sync: a.sync, dataDir: a.dir, log: testLogger() })
    await d.start()
    await d.close()
    return d
  }
  await writeFile(file, '{"version":1,"peers":nul')
  await start()
  t.equal((JSON.parse(await readFile(file, 'utf8')) as { version: number }).version, 1, 'truncated file: started afresh and saved a good one')
  const good = 'ab'.repeat(32)
  await writeFile(file, JSON.stringify({
    version: 1,
    peers: { [good]: { source: 'swarm', wider: true, lastContact: 1_700_000_000_000 }, bad: { source: 'moon', wider: 1, lastContact: -1 }, worse: null },
    held: { x: null, y: { [good]: 3, bad: 'many' } },
    marks: { x: 'no', y: [[0, 5], 'junk', [1]] }
  }))
  const d = await start()
  t.same(d.status().peers, [{ key: good, source: 'swarm', wider: true, lastContact: new Date(1_700_000_000_000).toISOString() }], 'only the well-formed peer is kept')
  t.equal(d.summary.lastWiderContact, new Date(1_700_000_000_000).toISOString())
  const saved = JSON.parse(await readFile(file, 'utf8')) as { held: unknown, marks: unknown }
  t.same(saved.held, { y: { [good]: 3 } }, 'well-formed counts kept')
  t.match(saved.marks, { y: [[0, 5]] }, 'well-formed marks kept')
})

t.test('posts written before the view existed are dated by their created_at', async t => {
  const community = createCommunity({ name: 'delivery old posts' })
  const a = await createSyncNode(t, community)
  const s = signer()
  await ingestAll(a.store, [s.sign({ content: 'old', created_at: 1_700_000_000 }), s.sign({ content: 'older', created_at: 1_690_000_000 })])
  const d = new DeliveryTracker({ sync: a.sync, dataDir: a.dir, log: testLogger() })
  await d.start()
  t.teardown(async () => { await d.close() })
  t.equal(d.summary.notLeftSince, new Date(1_690_000_000_000).toISOString(), 'the oldest post of the first pending block')
  t.ok(d.summary.pendingBlocks >= 1)
})
