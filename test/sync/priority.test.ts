import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
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
import { createSyncNode, ingestAll, rawPeer, until, type SyncNode } from './sync-helpers.js'

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
  const big = Array.from({ length: 10 }, (_, i) => s.sign({ content: `${i}`.padEnd(20_000, 'x') }))
  const at = core.length
  await ingestAll(a.store, big)
  t.equal(core.length - at, 4, 'bulky events go in small blocks (64 KiB: three of 20 KB each)')
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

t.test('priority requests and answers from a peer are bounded and checked', async t => {
  const community = createCommunity({ name: 'hostile' })
  const a = await createSyncNode(t, community)
  const alice = signer()
  await backlog(a, alice, signer(), { bulk: 2, dms: 1, text: 2 })
  const own = a.store.nodeLog.current

  // an honest question gets the index's answer
  const p = await rawPeer(a.port, community, true)
  await p.opened
  p.requestPriorities({ log: own.key, from: 0, to: own.length })
  p.requestPriorities({ log: Buffer.alloc(32, 9), from: 0, to: 10 })
  await until(() => p.answers.length === 2, 5000, 'answers')
  const mine = p.answers.find(x => x.log.equals(own.key))
  t.same(mine?.runs.map(r => r.priority), [Priority.Bulk, Priority.Private, Priority.Text, Priority.Bulk], 'classes of the blocks, bulk / message / text / bulk')
  t.equal(mine?.end, own.length)
  t.same(p.answers.find(x => !x.log.equals(own.key))?.runs, [], 'a log it does not carry: nothing')

  const dropped = async (what: string, send: (q: Awaited<ReturnType<typeof rawPeer>>) => void): Promise<void> => {
    const q = await rawPeer(a.port, community, true)
    await q.opened
    send(q)
    await q.closed
    t.pass(what)
  }
  await dropped('a request spanning more blocks than allowed drops the peer', q => { q.requestPriorities({ log: own.key, from: 10, to: 5 }) })
  await dropped('an answer with an unknown class drops the peer', q => { q.answerPriorities({ log: own.key, from: 0, end: 1, runs: [{ start: 0, length: 1, priority: 7 as Priority }] }) })
  await dropped('a flood of requests drops the peer', q => {
    for (let i = 0; i < 5000; i++) q.requestPriorities({ log: own.key, from: 0, to: own.length })
  })
  t.ok((a.sync.status() as { droppedPeers: number }).droppedPeers >= 3, 'counted as dropped')
})

t.test('a peer that calls every block urgent changes only the order: everything arrives once', async t => {
  const community = createCommunity({ name: 'liar' })
  const a = await createSyncNode(t, community)
  const events = await backlog(a, signer(), signer(), { bulk: 10, dms: 2, text: 3 })
  // a's answers claim every block is a private message
  a.store.priorityRuns = async (_log, from, to) => ({ runs: [{ start: from, length: to - from, priority: Priority.Private }], end: to })
  const b = await createSyncNode(t, community)
  b.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  await until(() => b.store.count() === events.length, 30_000, 'all events at b')
  const ids = new Set((await b.store.query([{ limit: 1000 }])).map(e => e.id))
  t.same([...ids].sort(), events.map(e => e.id).sort(), 'every event, each once')
})

t.test('a node stopped after its urgent blocks came ahead of the rest catches up without double counting', async t => {
  const community = createCommunity({ name: 'restart' })
  const a = await createSyncNode(t, community)
  const events = await backlog(a, signer(), signer(), { bulk: 30, dms: 3, text: 5 })
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-prio-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const b1 = await createSyncNode(t, community, { dir })
  b1.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  await until(async () => (await b1.store.query([{ kinds: [4] }])).length === 3, 30_000, 'messages at b')
  await b1.close() // the bulk may or may not be here yet
  const b2 = await createSyncNode(t, community, { dir })
  b2.sync.addPeerAddress({ host: '127.0.0.1', port: a.port, source: 'static' })
  await until(async () => (await b2.store.query([{ limit: 1000 }])).length === events.length, 30_000, 'everything at b')
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(b2.store.count(), events.length, 'the stored-event count is exact')
})
