import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLab, netnsUnavailable } from '../helpers/netns.js'
import { events, ID_A, isPeer, startDiscovery, startRaw, type DiscoveryLine, type PeerLine } from './mdns-lab.js'

const skip = netnsUnavailable()

interface Sniffed { event: 'response', from: string, records: Array<{ name: string, type: string, ttl: number, data: unknown }> }

const seen = (lines: DiscoveryLine[], name: string): boolean =>
  lines.some(v => v.event === 'peer' && v.name === name)

t.test('a hotspot with an AP side and an uplink side advertises each side its own address, and honours an interface restriction', { skip: skip ?? false }, async t => {
  const lab = await createLab(t)
  const brA = await lab.bridge()
  const brB = await lab.bridge()
  const h = await lab.host('hotspot', [{ bridge: brA, ifname: 'wlan0', cidr: '10.99.3.1/24' }, { bridge: brB, ifname: 'eth0', cidr: '10.99.4.1/24' }])
  const p = await lab.host('ap-peer', [{ bridge: brA, ifname: 'eth0', cidr: '10.99.3.2/24' }])
  const q = await lab.host('up-peer', [{ bridge: brB, ifname: 'eth0', cidr: '10.99.4.2/24' }])
  // TTL 6 s: an announcement every 2 s, and room for a process starved for a while on a busy CI
  const common = { discoveryId: ID_A, protocol: 1, ttl: 6 }

  const sniffer = await startRaw(lab, p, { address: '10.99.3.2', sniff: true })
  const [all, ap, pp, qq] = await Promise.all([
    startDiscovery(lab, h, { ...common, syncPort: 7201, name: 'hub-all' }),
    // shares the namespace with hub-all, whose membership on eth0 makes Linux deliver the uplink's
    // multicast to this socket too (IP_MULTICAST_ALL): the restriction must still hold
    startDiscovery(lab, h, { ...common, syncPort: 7202, name: 'hub-ap', interfaces: ['wlan0'] }),
    startDiscovery(lab, p, { ...common, syncPort: 7203, name: 'peer-p' }),
    startDiscovery(lab, q, { ...common, syncPort: 7204, name: 'peer-q' })
  ])
  if (all === undefined || ap === undefined || pp === undefined || qq === undefined) throw new Error('unreachable')
  const ifaces = (proc: typeof all): unknown => (proc.json()[0] as { interfaces: Array<{ name: string }> }).interfaces.map(i => i.name).sort()
  t.same(ifaces(all), ['eth0', 'wlan0'], 'by default every non-loopback IPv4 interface')
  t.same(ifaces(ap), ['wlan0'], 'or the configured ones')

  t.match(await pp.waitForJson<PeerLine>(isPeer('hub-all')), { host: '10.99.3.1', port: 7201 }, 'the AP side finds the hotspot at its AP address')
  t.match(await qq.waitForJson<PeerLine>(isPeer('hub-all')), { host: '10.99.4.1', port: 7201 }, 'the uplink side finds it at its uplink address')
  t.match(await pp.waitForJson<PeerLine>(isPeer('hub-ap')), { host: '10.99.3.1', port: 7202 }, 'the restricted instance is found on its AP')
  t.match(await all.waitForJson<PeerLine>(isPeer('peer-p')), { host: '10.99.3.2', port: 7203 })
  t.match(await all.waitForJson<PeerLine>(isPeer('peer-q')), { host: '10.99.4.2', port: 7204 })
  t.match(await ap.waitForJson<PeerLine>(isPeer('peer-p')), { host: '10.99.3.2', port: 7203 })

  // more announcement and query rounds on both links
  await sleep(3000)
  t.notOk(seen(events(qq), 'hub-ap'), 'the uplink side never hears the AP-only instance')
  t.notOk(seen(events(ap), 'peer-q'), 'the AP-only instance never reports a peer of the uplink')
  t.notOk(events(all).concat(events(ap)).some(v => v.event === 'lost'), 'nobody flaps')

  const aRecords = (sniffer.json() as Sniffed[])
    .filter(r => r.event === 'response')
    .flatMap(r => r.records.filter(rr => rr.type === 'A' && rr.name === 'hub-all.local').map(rr => rr.data))
  t.ok(aRecords.length > 0, 'the AP side received the hotspot\'s A records')
  t.same([...new Set(aRecords)], ['10.99.3.1'], 'and they carry only the AP address')
})

t.test('a configured interface that comes up after start is picked up', { skip: skip ?? false }, async t => {
  const lab = await createLab(t)
  const br = await lab.bridge()
  const late = await lab.namespace('late')
  const p = await lab.host('peer', [{ bridge: br, ifname: 'eth0', cidr: '10.99.5.2/24' }])
  const common = { discoveryId: ID_A, protocol: 1, ttl: 3 }
  const [hub, pp] = await Promise.all([
    startDiscovery(lab, late, { ...common, syncPort: 7301, name: 'hub-late', interfaces: ['wlan0'], rescanMs: 200 }),
    startDiscovery(lab, p, { ...common, syncPort: 7302, name: 'peer-p' })
  ])
  if (hub === undefined || pp === undefined) throw new Error('unreachable')
  t.same((hub.json()[0] as { interfaces: unknown[] }).interfaces, [], 'starts without its interface (and without failing)')
  await lab.connect(late, br, { ifname: 'wlan0', cidr: '10.99.5.1/24' })
  t.match(await pp.waitForJson<PeerLine>(isPeer('hub-late')).catch(err => { t.comment(hub.output()); throw err }), { host: '10.99.5.1', port: 7301 }, 'found once the interface has its address')
  t.match(await hub.waitForJson<PeerLine>(isPeer('peer-p')), { host: '10.99.5.2', port: 7302 }, 'and finds the peer')
  await lab.ip(late, ['link', 'set', 'wlan0', 'down'])
  t.match(await hub.waitForJson<PeerLine>(isPeer('peer-p', 'lost')), { host: '10.99.5.2' }, 'the interface going down loses its peers')
})
