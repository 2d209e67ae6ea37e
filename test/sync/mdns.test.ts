import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLab, netnsUnavailable } from '../helpers/netns.js'
import { events, ID_A, ID_B, isPeer, startDiscovery, startRaw, type DiscoveryLine, type PeerLine } from './mdns-lab.js'

const skip = netnsUnavailable()

const peersSeen = (lines: DiscoveryLine[]): string[] =>
  lines.filter((v): v is PeerLine => v.event === 'peer').map(v => v.name)

t.test('nodes on one bridge find each other; another community and another protocol are ignored', { skip: skip ?? false }, async t => {
  const lab = await createLab(t)
  const br = await lab.bridge()
  const ns = await Promise.all(['a', 'b', 'c', 'd'].map((label, i) =>
    lab.host(label, [{ bridge: br, ifname: 'eth0', cidr: `10.99.1.${i + 1}/24` }])))
  const began = Date.now()
  const [a, b, c, d] = await Promise.all([
    startDiscovery(lab, ns[0] as string, { discoveryId: ID_A, protocol: 1, syncPort: 7001, name: 'node-a' }),
    startDiscovery(lab, ns[1] as string, { discoveryId: ID_A, protocol: 1, syncPort: 7002, name: 'node-b' }),
    startDiscovery(lab, ns[2] as string, { discoveryId: ID_B, protocol: 1, syncPort: 7003, name: 'node-c' }),
    startDiscovery(lab, ns[3] as string, { discoveryId: ID_A, protocol: 2, syncPort: 7004, name: 'node-d' })
  ])
  if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error('unreachable')

  const bOnA = await a.waitForJson<PeerLine>(isPeer('node-b'))
  const aOnB = await b.waitForJson<PeerLine>(isPeer('node-a'))
  t.comment(`both found within ${Date.now() - began} ms of starting four processes`)
  t.match(bOnA, { host: '10.99.1.2', port: 7002, discoveryId: ID_A, protocol: 1, source: 'lan' }, 'a finds b at its address and sync port')
  t.match(aOnB, { host: '10.99.1.1', port: 7001, discoveryId: ID_A, protocol: 1, source: 'lan' }, 'b finds a')

  // the others' records did arrive, and were turned away for the right reason
  await a.waitForJson<DiscoveryLine>(v => v.event === 'ignored' && v.name === 'node-c' && v.reason === 'another discovery id')
  await a.waitForJson<DiscoveryLine>(v => v.event === 'ignored' && v.name === 'node-d' && /^protocol 2\b/.test(v.reason))
  await d.waitForJson<DiscoveryLine>(v => v.event === 'ignored' && v.name === 'node-a' && /^protocol 1\b/.test(v.reason))
  t.same(peersSeen(events(a)), ['node-b'], 'a reports only b (not itself, not c, not d)')
  t.same(peersSeen(events(b)), ['node-a'], 'b reports only a')
  t.same(peersSeen(events(c)), [], 'c (another community) reports nobody')
  t.same(peersSeen(events(d)), [], 'd (another protocol) reports nobody')
})

t.test('a closed peer says goodbye at once; a killed one expires after its TTL', { skip: skip ?? false }, async t => {
  const lab = await createLab(t)
  const br = await lab.bridge()
  const ns = await Promise.all(['a', 'b', 'e'].map((label, i) =>
    lab.host(label, [{ bridge: br, ifname: 'eth0', cidr: `10.99.2.${i + 1}/24` }])))
  const ttl = 3
  const [a, b, e] = await Promise.all(['node-a', 'node-b', 'node-e'].map((name, i) =>
    startDiscovery(lab, ns[i] as string, { discoveryId: ID_A, protocol: 1, syncPort: 7100 + i, name, ttl })))
  if (a === undefined || b === undefined || e === undefined) throw new Error('unreachable')
  await a.waitForJson(isPeer('node-b'))
  await a.waitForJson(isPeer('node-e'))

  let began = Date.now()
  t.equal(await b.stop('SIGTERM'), 0, 'close() (called three times) exits cleanly')
  t.ok(b.lines.some(l => l.includes('"closed"')), 'b closed')
  const lostB = await a.waitForJson<PeerLine>(isPeer('node-b', 'lost'))
  const goodbyeMs = Date.now() - began
  t.match(lostB, { host: '10.99.2.2', port: 7101 })
  t.ok(goodbyeMs < ttl * 1000, `b lost ${goodbyeMs} ms after close, before its ${ttl} s TTL could run out: a goodbye`)

  began = Date.now()
  await e.stop('SIGKILL')
  await a.waitForJson(isPeer('node-e', 'lost'), 10_000)
  const expiryMs = Date.now() - began
  t.ok(expiryMs <= (ttl + 2) * 1000, `e (killed, no goodbye) lost after ${expiryMs} ms, TTL ${ttl} s`)
  t.same(peersSeen(events(a)).sort(), ['node-b', 'node-e'], 'each peer reported once')
})

t.test('a node that starts later is answered at once, and DNS-SD type enumeration lists us', { skip: skip ?? false }, async t => {
  const lab = await createLab(t)
  const br = await lab.bridge()
  const [na, nb, nr] = await Promise.all(['a', 'b', 'raw'].map((label, i) =>
    lab.host(label, [{ bridge: br, ifname: 'eth0', cidr: `10.99.7.${i + 1}/24` }])))
  if (na === undefined || nb === undefined || nr === undefined) throw new Error('unreachable')
  const a = await startDiscovery(lab, na, { discoveryId: ID_A, protocol: 1, syncPort: 7401, name: 'node-a' })
  await sleep(2000) // past a's start-up announcements; its next one is 40 s away (TTL 120 s)
  const began = Date.now()
  const b = await startDiscovery(lab, nb, { discoveryId: ID_A, protocol: 1, syncPort: 7402, name: 'node-b' })
  t.match(await b.waitForJson<PeerLine>(isPeer('node-a'), 5000), { host: '10.99.7.1', port: 7401 })
  t.comment(`found through a's answer to b's query ${Date.now() - began} ms after b was spawned`)
  t.match(await a.waitForJson<PeerLine>(isPeer('node-b')), { host: '10.99.7.2', port: 7402 })

  const raw = await startRaw(lab, nr, { address: '10.99.7.3', sniff: true, packets: [{ type: 'query', questions: [{ name: '_services._dns-sd._udp.local', type: 'PTR' }] }] })
  await raw.waitForJson<{ from: string, records: Array<{ name: string, data: unknown }> }>(v =>
    v.from === '10.99.7.1' && v.records.some(r => r.name === '_services._dns-sd._udp.local' && r.data === '_outpost._tcp.local'))
  t.pass('a lists _outpost._tcp when asked which service types exist')
  // 300 ms query bursts for 2.5 s: answers stay at about one a second per interface
  const start = raw.lines.length
  await sleep(2500)
  const answers = raw.json().slice(start).filter(v => (v as { from?: string }).from === '10.99.7.1' &&
    (v as { records: Array<{ name: string }> }).records.some(r => r.name === '_services._dns-sd._udp.local'))
  t.ok(answers.length >= 1 && answers.length <= 4, `${answers.length} answers to 8 queries in 2.5 s`)
})
