import t from 'tap'
import { EventEmitter } from 'node:events'
import createTestnet from 'hyperdht/testnet.js'
import { followUplink, parseBootstrap, type UplinkSource } from '../../node/src/sync/swarm.js'
import { swarmPeer, topic } from './swarm-helpers.js'

t.test('followUplink: the --swarm auto|on|off policy', async t => {
  const testnet = await createTestnet(2)
  t.teardown(async () => { await testnet.destroy() })
  const bootstrap = testnet.bootstrap.map(b => ({ host: b.host, port: b.port }))
  // The uplink as the policy sees it: an event source with a state (UplinkMonitor's shape)
  const uplink = (state: 'offline' | 'online'): UplinkSource & { set: (s: 'offline' | 'online') => void } => {
    const e = Object.assign(new EventEmitter(), { state, set: (s: 'offline' | 'online') => { e.state = s; e.emit('change', s) } })
    return e
  }
  const settle = async (p: ReturnType<typeof swarmPeer>): Promise<void> => { await p.transport.settled() }

  const auto = swarmPeer(topic(), bootstrap)
  const up = uplink('offline')
  const stop = followUplink('auto', up, auto.transport, auto.log)
  t.teardown(async () => { await auto.transport.close() })
  await settle(auto)
  t.equal(auto.transport.state, 'idle', 'auto + offline: not joined')
  up.set('online')
  await settle(auto)
  t.equal(auto.transport.state, 'joined', 'auto: online joins')
  up.set('offline')
  await settle(auto)
  t.equal(auto.transport.state, 'idle', 'auto: offline leaves')
  stop()
  up.set('online')
  await settle(auto)
  t.equal(auto.transport.state, 'idle', 'stopped: no longer follows')

  const on = swarmPeer(topic(), bootstrap)
  t.teardown(async () => { await on.transport.close() })
  const up2 = uplink('offline')
  followUplink('on', up2, on.transport, on.log)
  await settle(on)
  t.equal(on.transport.state, 'joined', 'on: joined even offline')
  up2.set('online')
  await settle(on)
  t.ok(on.records.some(r => r.msg.startsWith('swarm restarted')), 'on: uplink back = refresh (a restart: no live connection)')
  t.equal(on.transport.state, 'joined', 'still joined after the restart')
  t.not(on.transport.dht, null, 'with a DHT node')
  up2.set('offline')
  await settle(on)
  t.equal(on.transport.state, 'joined', 'on: stays joined offline')

  const off = swarmPeer(topic(), bootstrap)
  followUplink('off', uplink('online'), off.transport, off.log)
  await settle(off)
  t.equal(off.transport.state, 'idle', 'off: never joins')
})

t.test('parseBootstrap', async t => {
  t.same(parseBootstrap(['127.0.0.1:49737', 'node1.example.org:1', '[::1]:7']), [{ host: '127.0.0.1', port: 49737 }, { host: 'node1.example.org', port: 1 }, { host: '::1', port: 7 }])
  t.throws(() => parseBootstrap(['nope']), /HOST:PORT/)
})
