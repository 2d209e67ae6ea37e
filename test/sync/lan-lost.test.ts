import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCommunity } from '../../node/src/sync/community.js'
import { signer } from '../helpers/events.js'
import { createSyncNode, has, ingestAll, until } from './sync-helpers.js'
import { createProxy } from './proxy.js'

interface Status { peers: Array<{ key: string, source: string }>, addresses: unknown[] }
const status = (n: { sync: { status: () => unknown } }): Status => n.sync.status() as Status

// What LAN discovery does when a peer's records go (goodbye, TTL, interface down): it calls
// removePeerAddress. The address must stop being dialed; a session that still works must not be
// torn down for it (mDNS packets get lost while TCP is fine); one whose peer vanished without a
// FIN must not hang around: the keepalive idle timeout ends it, and nothing redials it.
t.test('a LAN peer that went away: no redial; a healthy session stays, a half-dead one ends at the idle timeout', async t => {
  const community = createCommunity()
  const a = await createSyncNode(t, community, { idleTimeoutMs: 2000 })
  const b = await createSyncNode(t, community, { idleTimeoutMs: 2000 })
  const proxy = await createProxy(t, a.port)
  const addr = { host: '127.0.0.1', port: proxy.port, source: 'lan' as const }
  b.sync.addPeerAddress(addr)
  const s = signer()
  const first = s.sign({ content: 'first' })
  await ingestAll(a.store, [first])
  await until(async () => await has(b.store, first.id), 20_000, 'initial sync')
  t.match(status(b).peers, [{ key: a.keyPair.publicKey.toString('hex'), source: 'lan' }])

  // records lost while the link is fine: the address goes, the session stays and keeps syncing
  b.sync.removePeerAddress(addr)
  t.same(status(b).addresses, [], 'the address is forgotten')
  await sleep(3000)
  t.equal(status(b).peers.length, 1, 'a working session outlives its mDNS records (past the idle timeout)')
  const second = s.sign({ content: 'second' })
  await ingestAll(a.store, [second])
  await until(async () => await has(b.store, second.id), 10_000, 'sync over the kept session')

  // the peer vanishes without a FIN (power cut, cable): half-dead until the idle timeout
  b.sync.addPeerAddress(addr)
  proxy.set('blackhole')
  b.sync.removePeerAddress(addr)
  const t0 = Date.now()
  await until(() => status(b).peers.length === 0 && status(a).peers.length === 0, 10_000, 'the half-dead session ends')
  const took = Date.now() - t0
  t.ok(took < 6000, `both ends dropped the dead session in ${took} ms (idle timeout 2000 ms)`)

  // the link works again, but nobody knows the address: nothing redials
  proxy.set('forward')
  await sleep(2500)
  t.same(status(b).peers, [], 'b does not redial an address LAN discovery took back')
  t.same(status(b).addresses, [])
  t.same(status(a).peers, [])
})
