import t from 'tap'
import { createCommunity } from '../../node/src/sync/community.js'
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
