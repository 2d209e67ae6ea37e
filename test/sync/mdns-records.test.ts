import t from 'tap'
import {
  advertRecords, answersQuery, chooseInterfaces, encodeTxt, hostLabel, inSubnet, instanceLabel,
  parseResponse, parseTxt, pickHost, SERVICE_TYPE, type Advert
} from '../../node/src/sync/mdns-records.js'
import { LanDiscovery } from '../../node/src/sync/mdns.js'
import { testLogger } from '../helpers/log.js'

const ID = 'ab'.repeat(16)
const advert: Advert = {
  fqdn: `node-a.${SERVICE_TYPE}`,
  host: 'node-a.local',
  port: 7001,
  txt: encodeTxt({ discoveryId: ID, protocol: 1, port: 7001 }),
  addresses: ['10.0.0.1'],
  ttl: 120
}
const txt = (...s: string[]): Buffer[] => s.map(x => Buffer.from(x))

t.test('TXT strings parse into id, protocol and port, or the reason they do not', async t => {
  t.same(parseTxt(txt(...encodeTxt({ discoveryId: ID, protocol: 3, port: 65535 }))), { discoveryId: ID, protocol: 3, port: 65535 })
  t.same(parseTxt(txt('ID=' + ID, 'V=1', 'Port=1', 'flag', 'x=')), { discoveryId: ID, protocol: 1, port: 1 }, 'keys are case-insensitive; boolean and empty attributes pass')
  t.same(parseTxt(txt(`id=${ID}`, 'id=cd'.repeat(1), 'v=1', 'port=9')), { discoveryId: ID, protocol: 1, port: 9 }, 'the first occurrence of a key wins')
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /no TXT/],
    ['id=x', /no TXT/],
    [[42], /wrong type/],
    [[{}], /wrong type/],
    [txt('v=1', 'port=1'), /discovery id/],
    [txt(`id=${ID.toUpperCase()}`, 'v=1', 'port=1'), /discovery id/],
    [txt('id=' + 'a'.repeat(130), 'v=1', 'port=1'), /discovery id/],
    [txt(`id=${ID}`, 'v=0', 'port=1'), /protocol/],
    [txt(`id=${ID}`, 'v=1.5', 'port=1'), /protocol/],
    [txt(`id=${ID}`, 'v=-1', 'port=1'), /protocol/],
    [txt(`id=${ID}`, 'v=1', 'port=0'), /port/],
    [txt(`id=${ID}`, 'v=1', 'port=1e3'), /port/],
    [txt(`id=${ID}`, 'v=1', 'port= 80'), /port/],
    [txt(`id=${ID}`, 'v=1'), /port/]
  ]
  for (const [input, reason] of bad) t.match(parseTxt(input), reason, `rejects ${JSON.stringify(input)}`)
})

t.test('a response yields services with their same-packet records, and goodbyes', async t => {
  const packet = { type: 'response' as const, ...advertRecords(advert) }
  t.same(parseResponse(packet), {
    services: [{ fqdn: advert.fqdn, name: 'node-a', port: 7001, target: 'node-a.local', ttl: 120, txt: advert.txt, addresses: ['10.0.0.1'] }],
    goodbyes: []
  })
  t.same(parseResponse(advertRecords(advert, 0)), { services: [], goodbyes: [advert.fqdn] }, 'TTL 0 is a goodbye')
  const upper = advertRecords({ ...advert, fqdn: `Node-A.${SERVICE_TYPE.toUpperCase()}` })
  t.equal(parseResponse(upper).services[0]?.fqdn, `node-a.${SERVICE_TYPE}`, 'names compare case-insensitively')
  t.same(parseResponse({ answers: [{ name: SERVICE_TYPE, type: 'PTR', ttl: 120, data: `x.${SERVICE_TYPE}` }] }).services, [], 'a PTR without its SRV is no service')
  const weird: unknown[] = [
    {},
    { answers: 'no' },
    { answers: [null, 7, { name: 1 }, { name: SERVICE_TYPE, type: 'PTR', data: { not: 'a name' } }] },
    { answers: [{ name: SERVICE_TYPE, type: 'PTR', ttl: 120, data: SERVICE_TYPE }] },
    { additionals: [{ name: advert.fqdn, type: 'SRV', ttl: 120, data: null }] },
    { additionals: [{ name: advert.fqdn, type: 'SRV', ttl: 120, data: { port: '7001', target: 'x' } }] },
    { additionals: [{ name: advert.fqdn, type: 'SRV', ttl: -5, data: { port: 1, target: 'x' } }] },
    { additionals: [{ name: advert.fqdn, type: 'SRV', ttl: Number.NaN, data: { port: 1, target: 'x' } }] }
  ]
  for (const p of weird) t.same(parseResponse(p as never).services, [], `no service in ${JSON.stringify(p)}`)
  const srvOnly = parseResponse({ answers: [{ name: advert.fqdn, type: 'SRV', ttl: 120, data: { port: 1, target: 'h.local' } }] })
  t.same(srvOnly.services.map(s => [s.name, s.txt]), [['node-a', null]], 'an SRV answer alone is a service (its TXT is then missing)')
})

t.test('queries we answer', async t => {
  t.equal(answersQuery([{ name: SERVICE_TYPE, type: 'PTR' }], advert), 'service')
  t.equal(answersQuery([{ name: advert.fqdn.toUpperCase(), type: 'ANY' }], advert), 'service')
  t.equal(answersQuery([{ name: 'node-a.local', type: 'A' }], advert), 'service')
  t.equal(answersQuery([{ name: '_services._dns-sd._udp.local', type: 'PTR' }], advert), 'meta')
  t.equal(answersQuery([{ name: '_http._tcp.local', type: 'PTR' }, null, 5, { name: 3 }], advert), null)
  t.equal(answersQuery('garbage', advert), null)
})

t.test('interfaces: every non-loopback IPv4 one by default, or the named ones', async t => {
  const system = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true }],
    eth0: [
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false },
      { address: '192.168.1.5', netmask: '255.255.255.0', family: 'IPv4', internal: false },
      { address: '10.1.0.5', netmask: '255.255.0.0', family: 'IPv4', internal: false }
    ],
    wlan0: [{ address: '10.42.0.1', netmask: '255.255.255.0', family: 4, internal: false }],
    v6only: [{ address: 'fd00::1', netmask: 'ffff::', family: 'IPv6', internal: false }]
  }
  t.same(chooseInterfaces(system).map(i => [i.name, i.address, i.addresses.length]), [['eth0', '192.168.1.5', 2], ['wlan0', '10.42.0.1', 1]])
  t.same(chooseInterfaces(system, ['wlan0', 'missing']).map(i => i.name), ['wlan0'])
  t.same(chooseInterfaces(system, []).map(i => i.name), ['eth0', 'wlan0'], 'an empty list means the default')
  t.same(chooseInterfaces(system, ['lo']), [], 'loopback never')

  const [eth0] = chooseInterfaces(system)
  if (eth0 === undefined) throw new Error('unreachable')
  t.ok(inSubnet('10.1.200.3', '10.1.0.5', '255.255.0.0'))
  t.notOk(inSubnet('10.2.0.1', '10.1.0.5', '255.255.0.0'))
  t.ok(inSubnet('200.1.1.1', '200.1.1.2', '255.255.255.252'), 'high addresses stay unsigned')
  t.notOk(inSubnet('not an ip', '10.1.0.5', '255.255.0.0'))
  t.notOk(inSubnet('10.1.0.256', '10.1.0.5', '255.255.0.0'))
  t.equal(pickHost(eth0, ['172.16.0.1', '10.1.7.7'], '192.168.1.9'), '10.1.7.7', 'an advertised address on the link first')
  t.equal(pickHost(eth0, ['172.16.0.1'], '192.168.1.9'), '192.168.1.9', 'else the source, when on the link')
  t.equal(pickHost(eth0, ['172.16.0.1'], '172.31.0.1'), '172.16.0.1', 'else the first advertised')
  t.equal(pickHost(eth0, [], '172.31.0.1'), '172.31.0.1')
})

t.test('names become DNS labels', async t => {
  t.equal(instanceLabel('Camp.North (a1b2)'), 'Camp-North (a1b2)')
  t.equal(instanceLabel(''), 'outpost')
  t.ok(Buffer.byteLength(instanceLabel('é'.repeat(60))) <= 63, 'at most 63 bytes of UTF-8')
  t.equal(hostLabel('Camp.North (a1b2)'), 'camp-north-a1b2')
  t.equal(hostLabel('ÉÉÉ'), 'outpost')
  t.ok(hostLabel('x'.repeat(100)).length <= 63)
})

t.test('LanDiscovery rejects bad options up front, and closes safely without having started', async t => {
  const base = { discoveryId: ID, syncPort: 7001, protocol: 1, name: 'n', log: testLogger() }
  t.throws(() => new LanDiscovery({ ...base, discoveryId: 'secret key?' }), /discoveryId/)
  t.throws(() => new LanDiscovery({ ...base, syncPort: 0 }), /syncPort/)
  t.throws(() => new LanDiscovery({ ...base, protocol: 1.5 }), /protocol/)
  const d = new LanDiscovery({ ...base, networkInterfaces: () => ({}) })
  t.equal(d.fqdn, `n.${SERVICE_TYPE}`)
  await d.close()
  await d.close()
  await d.start()
  t.same(d.interfaces(), [], 'start after close opens nothing')
})
