import t from 'tap'
import dgram from 'node:dgram'
import createTestnet from 'hyperdht/testnet.js'
import { decide, encodePing, parseProcRoute, probeBootstrap, responseTid, uplinkRoutes } from '../../node/src/system/uplink.js'

// Captured shape of /proc/net/route (header, tabs, trailing blanks as the kernel writes them)
const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       '
const row = (iface: string, dest: string, gw: string, flags: string, metric: number, mask: string): string =>
  `${iface}\t${dest}\t${gw}\t${flags}\t0\t0\t${metric}\t${mask}\t0\t0\t0                                                                               `

t.test('parseProcRoute: IPv4 default routes only, usable ones, best metric first', async t => {
  const text = [
    HEADER,
    row('wlan0', '0000A8C0', '00000000', '0001', 0, '00FFFFFF'), // 192.168.0.0/24 on the AP: not a default
    row('usb0', '00000000', '012AA8C0', '0003', 600, '00000000'), // default via 192.168.42.1, metric 600
    row('eth0', '00000000', '010200C0', '0003', 100, '00000000'), // default via 192.0.2.1, metric 100
    row('ppp0', '00000000', '00000000', '0001', 700, '00000000'), // point-to-point default: no gateway
    row('eth1', '00000000', '00000000', '0201', 0, '00000000'), // reject route
    row('wwan0', '00000000', '01010A0A', '0002', 0, '00000000'), // not up
    ''
  ].join('\n')
  t.same(parseProcRoute(text), [
    { iface: 'eth0', gateway: '192.0.2.1', metric: 100 },
    { iface: 'usb0', gateway: '192.168.42.1', metric: 600 },
    { iface: 'ppp0', gateway: null, metric: 700 }
  ])
  t.same(parseProcRoute(HEADER + '\n'), [], 'no routes')
  t.same(parseProcRoute(''), [], 'empty file')
  t.same(parseProcRoute('garbage\nmore garbage here\n\t\t\n'), [], 'garbage')
})

t.test('uplinkRoutes: the access point and loopback are never an uplink', async t => {
  const routes = [{ iface: 'wlan0', gateway: '10.0.0.1', metric: 0 }, { iface: 'lo', gateway: null, metric: 0 }, { iface: 'eth0', gateway: '192.0.2.1', metric: 100 }]
  t.same(uplinkRoutes(routes, 'wlan0'), [{ iface: 'eth0', gateway: '192.0.2.1', metric: 100 }])
  t.same(uplinkRoutes(routes.slice(0, 2), 'wlan0'), [], 'default route only through the AP: no uplink')
  t.same(uplinkRoutes(routes, undefined).map(r => r.iface), ['wlan0', 'eth0'], 'no AP configured: any interface but lo')
})

t.test('decide: online needs a route and an answer; a lost route is offline at once, lost answers after 2 polls', async t => {
  t.equal(decide('offline', { uplinks: 0, probe: 'skipped', failuresInRow: 0 }), 'offline')
  t.equal(decide('online', { uplinks: 0, probe: 'skipped', failuresInRow: 0 }), 'offline', 'route gone')
  t.equal(decide('offline', { uplinks: 1, probe: 'ok', failuresInRow: 0 }), 'online')
  t.equal(decide('offline', { uplinks: 1, probe: 'failed', failuresInRow: 1 }), 'offline', 'route but no DHT: not online')
  t.equal(decide('online', { uplinks: 1, probe: 'failed', failuresInRow: 1 }), 'online', 'one lost probe is tolerated')
  t.equal(decide('online', { uplinks: 1, probe: 'failed', failuresInRow: 2 }), 'offline', 'two in a row are not')
  t.equal(decide('online', { uplinks: 2, probe: 'ok', failuresInRow: 0 }), 'online')
})

t.test('dht-rpc ping encoding', async t => {
  const buf = encodePing(0x1234, { host: '127.0.0.1', port: 49737 })
  t.same([...buf], [0x03, 0x04, 0x34, 0x12, 127, 0, 0, 1, 0x49, 0xc2, 0x00])
  t.equal(responseTid(Buffer.from([0x13, 0x00, 0x34, 0x12, 127, 0, 0, 1, 0, 0])), 0x1234)
  t.equal(responseTid(Buffer.from([0x03, 0x00, 0x34, 0x12])), null, 'a request is not an answer')
  t.equal(responseTid(Buffer.from([0x13])), null, 'short')
})

t.test('probeBootstrap: a real hyperdht node answers on loopback; silence times out', async t => {
  const testnet = await createTestnet(1)
  t.teardown(async () => { await testnet.destroy() })
  const [node] = testnet.bootstrap
  if (node === undefined) throw new Error('no bootstrap')
  const answered = await probeBootstrap([node], 1000)
  t.ok(answered !== null && answered.port === node.port, `the testnet node answered in ${answered?.rttMs ?? '?'} ms`)

  // A UDP socket that reads and never answers
  const silent = dgram.createSocket('udp4')
  let received = 0
  silent.on('message', () => { received++ })
  await new Promise<void>(resolve => { silent.bind(0, '127.0.0.1', resolve) })
  t.teardown(() => { silent.close() })
  const started = Date.now()
  t.equal(await probeBootstrap([{ host: '127.0.0.1', port: silent.address().port }], 300), null, 'no answer: failed')
  t.ok(Date.now() - started < 1000, 'within its timeout')
  t.equal(received, 1, 'exactly one datagram per probed node')
  const second = await probeBootstrap([{ host: '127.0.0.1', port: silent.address().port }, node], 300)
  t.equal(second?.port, node.port, 'the next node is tried when the first is silent')
})
