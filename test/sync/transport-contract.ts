import type { Test } from 'tap'
import { createCommunity } from '../../node/src/sync/community.js'
import { signer } from '../helpers/events.js'
import { createSyncNode, has, ingestAll, until, type SyncNode } from './sync-helpers.js'

/** What a transport test sets up between two nodes. */
export interface TransportLink {
  /** Cuts the transport both ways: connections drop and none can be made. */
  cut: () => Promise<void>
  /** Restores it: the nodes must find each other again by themselves. */
  restore: () => Promise<void>
}

/**
 * Connects two nodes through the transport under test, both ways where the transport can
 * (each side may dial the other), handing every stream to `node.sync.handleStream()`.
 * Register cleanup with `t.teardown`.
 */
export type TransportFactory = (t: Test, a: SyncNode, b: SyncNode) => Promise<TransportLink>

interface PeerView { key: string, source: string, connected: boolean }
const peers = (n: SyncNode): PeerView[] => (n.sync.status() as { peers: PeerView[] }).peers
const connected = (n: SyncNode): PeerView[] => peers(n).filter(p => p.connected)

/**
 * The contract every sync transport (TCP/LAN here, hyperswarm later) must meet. Each
 * implementation's test is a factory plus one call of this function.
 */
export function runTransportContract (t: Test, name: string, factory: TransportFactory, opts: { idleTimeoutMs?: number, sources?: string[] } = {}): void {
  const idleTimeoutMs = opts.idleTimeoutMs ?? 3000
  const setup = async (t: Test): Promise<{ a: SyncNode, b: SyncNode, link: TransportLink }> => {
    const community = createCommunity({ name: `contract ${name}` })
    const a = await createSyncNode(t, community, { idleTimeoutMs })
    const b = await createSyncNode(t, community, { idleTimeoutMs })
    const link = await factory(t, a, b)
    await until(() => connected(a).length === 1 && connected(b).length === 1, 30_000, `${name}: a session on both sides`)
    return { a, b, link }
  }

  t.test(`${name}: both ends are authenticated by their node keys`, async t => {
    const { a, b } = await setup(t)
    t.equal(connected(a)[0]?.key, b.keyPair.publicKey.toString('hex'), 'a sees b\'s key')
    t.equal(connected(b)[0]?.key, a.keyPair.publicKey.toString('hex'), 'b sees a\'s key')
    if (opts.sources !== undefined) for (const p of [...connected(a), ...connected(b)]) t.ok(opts.sources.includes(p.source), `source ${p.source} is reported`)
  })

  t.test(`${name}: one session per peer pair, however many ways they connected`, async t => {
    const { a, b } = await setup(t)
    await new Promise(resolve => setTimeout(resolve, 1500))
    t.equal(peers(a).length, 1, 'a holds one connection to b')
    t.equal(peers(b).length, 1, 'b holds one connection to a')
    t.equal(connected(a).length, 1)
  })

  t.test(`${name}: events flow both ways within seconds`, async t => {
    const { a, b } = await setup(t)
    const s = signer()
    const ea = s.sign({ content: `${name} a` })
    const eb = s.sign({ content: `${name} b` })
    const t0 = Date.now()
    await ingestAll(a.store, [ea])
    await ingestAll(b.store, [eb])
    await until(async () => await has(b.store, ea.id) && await has(a.store, eb.id), 5000, 'both ways')
    t.pass(`both ways in ${Date.now() - t0} ms`)
  })

  t.test(`${name}: a cut link drops the session, and a restored one catches up`, async t => {
    const { a, b, link } = await setup(t)
    await link.cut()
    await until(() => peers(a).length === 0 && peers(b).length === 0, idleTimeoutMs * 4, 'sessions dropped')
    const s = signer()
    const ea = Array.from({ length: 10 }, (_, i) => s.sign({ content: `${name} cut a ${i}` }))
    const eb = Array.from({ length: 10 }, (_, i) => s.sign({ content: `${name} cut b ${i}` }))
    await ingestAll(a.store, ea)
    await ingestAll(b.store, eb)
    await link.restore()
    await until(async () => await has(b.store, ea[9]?.id as string) && await has(a.store, eb[9]?.id as string), 30_000, 'caught up')
    t.equal(a.store.count(), 20)
    t.equal(b.store.count(), 20)
    t.equal(connected(a).length, 1, 'one session again')
  })
}
