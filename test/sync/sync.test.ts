import t from 'tap'
import { createCommunity } from '../../node/src/sync/community.js'
import { computeId } from '../../node/src/events/event.js'
import { encodeBlock } from '../../node/src/store/block-codec.js'
import { signer } from '../helpers/events.js'
import { createSyncNode, has, ingestAll, until } from './sync-helpers.js'

t.test('two nodes of a community replicate both ways over TCP', async t => {
  const community = createCommunity({ name: 'test' })
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  const s = signer()
  const ea = s.sign({ content: 'from a' })
  await ingestAll(a.store, [ea])
  b.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  await until(async () => await has(b.store, ea.id), 20_000, 'a -> b')
  const eb = s.sign({ content: 'from b' })
  const seen: string[] = []
  a.store.onEvent(e => { seen.push(e.id) })
  await ingestAll(b.store, [eb])
  await until(async () => await has(a.store, eb.id), 10_000, 'b -> a')
  t.ok(seen.includes(eb.id), 'a replicated event is fanned out to subscribers')
  const st = a.sync.status() as { peers: Array<{ connected: boolean, bytesIn: number }> }
  t.equal(st.peers.length, 1)
  t.ok((st.peers[0]?.bytesIn ?? 0) > 0, "bytes in are counted")
})

t.test('a rotated node log is certified and announced live; peers follow it', async t => {
  const community = createCommunity()
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  b.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  const s = signer()
  const e1 = s.sign({ content: 'old log' })
  await ingestAll(a.store, [e1])
  await until(async () => await has(b.store, e1.id), 20_000, 'first log')
  const old = a.store.nodeLog.current.key
  await a.store.nodeLog.rotate('test: as after a fork')
  const e2 = s.sign({ content: 'new log' })
  await ingestAll(a.store, [e2])
  t.notOk(a.store.nodeLog.current.key.equals(old))
  await until(async () => await has(b.store, e2.id), 10_000, 'the new log reaches b')
  t.ok(b.sync.logs.has(a.store.nodeLog.current.key), 'b carries the new log')
})

t.test('a data dir moved to another community writes to a new log and does not leak the old one', async t => {
  const first = createCommunity({ name: 'first' })
  const second = createCommunity({ name: 'second' })
  const a = await createSyncNode(t, first)
  const s = signer()
  const old = s.sign({ content: 'written for the first community' })
  await ingestAll(a.store, [old])
  const oldLog = a.store.nodeLog.current.key
  await a.close()
  const again = await createSyncNode(t, second, { dir: a.dir })
  t.notOk(again.store.nodeLog.current.key.equals(oldLog), 'a fresh log for the new community')
  t.notOk(again.sync.logs.has(oldLog), 'the old log is not offered to the new community')
  const b = await createSyncNode(t, second)
  b.sync.addPeerAddress({ host: '127.0.0.1', port: again.port, source: 'static' })
  const fresh = s.sign({ content: 'for the second' })
  await ingestAll(again.store, [fresh])
  await until(async () => await has(b.store, fresh.id), 20_000, 'new log syncs')
  t.notOk(await has(b.store, old.id), 'the first community\'s event stays home')
})

t.test('a long catch-up of a replicated log does not hold up a phone\'s OK', async t => {
  const community = createCommunity()
  const a = await createSyncNode(t, community)
  const b = await createSyncNode(t, community)
  // 20k events with good ids and bad signatures: every one is checked, none is stored
  const s = signer()
  const now = Math.floor(Date.now() / 1000)
  const sig = s.sign({ content: 'x' }).sig
  for (let blk = 0; blk < 80; blk++) {
    const lines = Array.from({ length: 256 }, (_, i) => {
      const e = { pubkey: s.pubkey, created_at: now - blk, kind: 1, tags: [], content: `bulk ${blk}/${i}` }
      return JSON.stringify({ id: computeId(e), ...e, sig })
    })
    await a.store.nodeLog.append(encodeBlock(lines))
  }
  const aLog = a.store.nodeLog.current.key.toString('hex')
  b.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  await until(() => b.store.invalidEvents(aLog) > 0, 20_000, 'catch-up started')
  const r = await b.store.ingest(s.sign({ content: 'from a phone during the catch-up' }), { type: 'client' })
  const checked = b.store.invalidEvents(aLog)
  t.equal(r.ok, true)
  t.ok(checked < 80 * 256, `the OK came while the catch-up was under way (${checked} of ${80 * 256} checked)`)
  await b.close()
  t.ok(b.store.invalidEvents(aLog) < 80 * 256, `closing the node stops the catch-up rather than finishing it (${b.store.invalidEvents(aLog)} checked)`)
})
