import t from 'tap'
import { createCommunity } from '../../node/src/sync/community.js'
import { NodeClock, MAX_LONE_STEP_MS } from '../../node/src/system/clock.js'
import { testLogger } from '../helpers/log.js'
import { createSyncNode, rawPeer, until } from './sync-helpers.js'

const H = 3600_000

/** A node clock whose system clock is 8 h behind the real one (monotonic as is). */
async function behindClock (): Promise<NodeClock> {
  return await NodeClock.open({ dataDir: null, log: testLogger(), systemNow: () => Date.now() - 8 * H })
}

t.test('sync peers exchange clocks on open; a hostile peer clock is bounded, ignored or dropped', async t => {
  const community = createCommunity({ name: 'clocks' })
  const clock = await behindClock()
  const node = await createSyncNode(t, community, { clock })

  // an admitted peer, online, a month ahead: the node moves, but at most a day
  const hostile = await rawPeer(node.port, community, true)
  await hostile.opened
  await until(() => hostile.clocks.length === 1, 10_000, 'the node tells its clock on open')
  const told = hostile.clocks[0] as { now: number, online: boolean }
  t.ok(Math.abs(told.now - (Date.now() - 8 * H)) < 60_000, 'the node sent its own time (8 h behind)')
  t.equal(told.online, false)
  const before = clock.now()
  hostile.sendClock(Date.now() + 30 * 24 * H, true)
  await until(() => clock.status().source === 'peers', 10_000, 'the step')
  const moved = clock.now() - before
  t.ok(moved <= MAX_LONE_STEP_MS + 60_000, `moved ${Math.round(moved / H)} h, not a month`)
  t.ok(moved >= MAX_LONE_STEP_MS - 60_000, 'by the bound')
  // a second clock message in the same session is ignored
  hostile.sendClock(Date.now() + 60 * 24 * H, true)
  hostile.sendClock(Date.now() + 60 * 24 * H, true)
  await until(async () => (node.sync.status().peers as Array<{ clock: unknown }>)[0]?.clock !== null, 10_000, 'the peer clock in /api/sync')
  t.ok(clock.now() - before <= MAX_LONE_STEP_MS + 60_000, 'later clock messages move nothing')
  t.equal(hostile.stream.destroyed, false, 'a peer with a wrong clock is not dropped')

  // garbage: not a safe integer is a protocol violation; the clock stays
  const garbage = await rawPeer(node.port, community, true)
  await garbage.opened
  const at = clock.now()
  garbage.sendClock(2n ** 60n, true)
  await garbage.closed
  t.pass('a peer sending a clock beyond 2^53 is dropped')
  t.ok(clock.now() - at < 60_000, 'and moved nothing')

  // 1970 (a Pi without any saved time): kept as a peer, moves nothing, reported nowhere
  const early = await rawPeer(node.port, community, true)
  await early.opened
  early.sendClock(0, true)
  early.sendLogs([])
  await until(() => (node.sync.status().peers as Array<{ clock: unknown }>).length >= 2, 10_000, 'early peer listed')
  t.ok(clock.now() - at < 60_000)
  t.equal(early.stream.destroyed, false)

  // not admitted: no clock is told, none is taken
  const stranger = await rawPeer(node.port, community, false)
  stranger.sendClock(Date.now() + 10 * 24 * H, true)
  await stranger.closed
  t.equal(stranger.clocks.length, 0, 'a stranger learns nothing')
  t.ok(clock.now() - at < 60_000, 'and moves nothing')
})

t.test('two real nodes with right clocks pull a third, 8 h behind, forward; one alone only reports', async t => {
  const community = createCommunity({ name: 'agree' })
  const clock = await behindClock()
  const c = await createSyncNode(t, community, { clock })
  const a = await createSyncNode(t, community, { clock: await NodeClock.open({ dataDir: null, log: testLogger() }) })
  const b = await createSyncNode(t, community, { clock: await NodeClock.open({ dataDir: null, log: testLogger() }) })
  a.sync.addPeerAddress({ host: '127.0.0.1', port: c.port, source: 'static' })
  await until(() => clock.status().peers === 1, 10_000, 'A told C its clock')
  t.ok(Math.abs((clock.status().behindPeersBy ?? 0) - 8 * 3600) < 60, 'C knows it is 8 h behind A')
  t.equal(clock.status().source, 'system', 'but one peer does not move it')
  b.sync.addPeerAddress({ host: '127.0.0.1', port: c.port, source: 'static' })
  await until(() => clock.status().source === 'peers', 10_000, 'A and B agree')
  t.ok(Math.abs(clock.now() - Date.now()) < 60_000, 'C now has the right time')
  t.equal(clock.status().behindPeersBy, 0)
})
