import t from 'tap'
import createTestnet from 'hyperdht/testnet.js'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import { createCommunity } from '../../node/src/sync/community.js'
import { defaultConfig } from '../../node/src/config/load.js'
import { startSwarm } from '../../node/src/sync/start-swarm.js'
import { SwarmTransport, type SwarmConnectionInfo } from '../../node/src/sync/swarm.js'
import { swarmTopic } from '../../node/src/sync/protocol.js'
import { Priority, priorityOf } from '../../node/src/events/priority.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import { signer, type Signer } from '../helpers/events.js'
import { testLogger } from '../helpers/log.js'
import { createSyncNode, ingestAll, until, type SyncNode } from './sync-helpers.js'

const classOf = (e: NostrEvent): number => priorityOf(e.kind, JSON.stringify(e).length)

/**
 * A site's backlog the way it builds up offline: bulky events first (long articles, inline
 * images), then private messages and short posts behind them, then more bulk. Each group is
 * committed on its own, so the urgent blocks sit behind bulky ones in the log.
 */
async function backlog (node: SyncNode, s: Signer, to: Signer, n: { bulk: number, dms: number, text: number }): Promise<NostrEvent[]> {
  const all: NostrEvent[] = []
  const add = async (events: NostrEvent[]): Promise<void> => { await ingestAll(node.store, events); all.push(...events) }
  const bulk = (i: number): NostrEvent => s.sign({ content: `photo ${i} data:image/jpeg;base64,`.padEnd(20_000, 'A') })
  await add(Array.from({ length: n.bulk }, (_, i) => bulk(i)))
  await add(Array.from({ length: n.dms }, (_, i) => s.sign({ kind: 4, content: `secret ${i}?iv=AAAAAAAAAAAAAAAAAAAAAA==`, tags: [['p', to.pubkey]] })))
  await add(Array.from({ length: n.text }, (_, i) => s.sign({ content: `meet at the big tent ${i} #camp`, tags: [['t', 'camp']] })))
  await add(Array.from({ length: n.bulk }, (_, i) => bulk(n.bulk + i)))
  return all
}

t.test('the node log keeps priority classes in separate blocks', async t => {
  const community = createCommunity({ name: 'blocks' })
  const a = await createSyncNode(t, community)
  const s = signer()
  const mixed = [
    s.sign({ content: 'x'.repeat(10_000) }),
    s.sign({ kind: 4, content: 'dm', tags: [['p', s.pubkey]] }),
    s.sign({ content: 'short' })
  ]
  t.same(mixed.map(classOf), [Priority.Bulk, Priority.Private, Priority.Text])
  const core = a.store.nodeLog.current
  const before = core.length
  await ingestAll(a.store, mixed) // arrive in one tick: one group commit
  t.equal(core.length - before, 3, 'one group commit of three classes makes three blocks')
  const runs = await a.store.priorityRuns(core.key, before, core.length, 10)
  t.same(runs.runs.map(r => r.priority), [Priority.Private, Priority.Text, Priority.Bulk], 'most urgent first, each block classed in the index')
})

t.test('over sync, private messages and text come before the bulky data written ahead of them', async t => {
  const community = createCommunity({ name: 'urgent' })
  const a = await createSyncNode(t, community)
  const alice = signer()
  const bob = signer()
  const events = await backlog(a, alice, bob, { bulk: 40, dms: 3, text: 12 })
  const urgent = events.filter(e => classOf(e) !== Priority.Bulk).length

  // a node that fetches by priority, and one that fetches strictly in order (the control)
  for (const priorities of [true, false]) {
    const b = await createSyncNode(t, community, { priorities })
    const arrived: NostrEvent[] = []
    b.store.onEvent(e => { arrived.push(e) })
    b.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
    await until(() => arrived.length >= events.length, 30_000, 'all events at b')
    t.equal(new Set(arrived.map(e => e.id)).size, arrived.length, 'each event stored and fanned out once')
    t.equal(b.store.count(), events.length, 'all stored')
    const firstBulk = arrived.findIndex(e => classOf(e) === Priority.Bulk)
    if (priorities) {
      t.equal(firstBulk, urgent, `all ${urgent} messages and short posts were stored before the first bulky event`)
      t.same(arrived.slice(0, 3).map(e => e.kind), [4, 4, 4], 'private messages first')
      const dms = await b.store.query([{ kinds: [4], '#p': [bob.pubkey] }])
      t.equal(dms.length, 3, 'the messages are readable at b')
    } else {
      t.equal(firstBulk, 0, 'control: in order, bulky data comes first')
    }
    await b.close()
  }
})

t.test('the index knows no priorities for a log it never indexed', async t => {
  const community = createCommunity({ name: 'unknown' })
  const a = await createSyncNode(t, community)
  const runs = await a.store.priorityRuns(Buffer.alloc(32, 7), 0, 100, 10)
  t.same(runs, { runs: [], end: 0 }, 'unknown log: no runs')
})

// The data budget of an uplink session is spent where it matters: a budget far too small for
// the site's bulky backlog still brings every private message and short post written after it.
t.test('on a thin uplink with a data budget, messages and text get through before bulk', async t => {
  const testnet = await createTestnet(3)
  t.teardown(async () => { await testnet.destroy() })
  const community = createCommunity({ name: 'thin' })
  const site = await createSyncNode(t, community)
  const alice = signer()
  const bob = signer()
  const events = await backlog(site, alice, bob, { bulk: 60, dms: 5, text: 20 })
  const bulkBytes = events.filter(e => classOf(e) === Priority.Bulk).reduce((n, e) => n + JSON.stringify(e).length, 0)
  const ss = new SwarmTransport({ topic: swarmTopic(community.publicKey), keyPair: site.keyPair, bootstrap: testnet.bootstrap.map(x => ({ host: x.host, port: x.port })), log: testLogger() })
  ss.on('connection', (stream: NoiseSecretStream, info: SwarmConnectionInfo) => { site.sync.handleStream(stream, { remotePublicKey: info.remotePublicKey, source: 'swarm' }) })
  t.teardown(async () => { await ss.close() })
  await ss.join()

  const BUDGET = 400_000 // a third of the bulk
  const far = await createSyncNode(t, community)
  const config = { ...defaultConfig({ cwd: process.cwd(), isTTY: false }), swarm: 'on' as const, bootstrap: testnet.bootstrap.map(x => `${x.host}:${x.port}`), swarmBudget: BUDGET }
  const h = await startSwarm(config, far.sync, testLogger())
  if (h === null) throw new Error('no swarm')
  t.teardown(async () => { await h.close() })
  const budget = (): { used: number, spent: boolean } => h.status().budget as { used: number, spent: boolean }
  await until(() => budget().spent, 30_000, 'budget spent')
  await until(() => h.transport.state === 'idle' && h.transport.connections === 0, 10_000, 'left the swarm')
  const here = await far.store.query([{ authors: [alice.pubkey], limit: 10_000 }])
  const got = (c: number): number => here.filter(e => classOf(e) === c).length
  t.comment(`budget ${BUDGET} B for ${bulkBytes} B of bulk: used ${budget().used} B; here ${got(Priority.Private)} messages, ${got(Priority.Text)} posts, ${got(Priority.Bulk)} of 120 bulky`)
  t.equal(got(Priority.Private), 5, 'every private message came')
  t.equal(got(Priority.Text), 20, 'every short post came')
  t.ok(got(Priority.Bulk) < 120, 'the bulk did not all fit in the budget')
  const dms = await far.store.query([{ kinds: [4], '#p': [bob.pubkey] }])
  t.equal(dms.length, 5, 'bob can read his messages at the far site')
})
