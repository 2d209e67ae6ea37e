import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { createLab, netnsUnavailable } from '../helpers/netns.js'
import { BIN, ensureBuilt } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { base, nsGetJson, nsPublish, nsQuery, startNode } from './ns-client.js'

// The plug-in sync relay as it is used: it joins site A's Wi-Fi (here: a veth on A's bridge),
// finds A's node by mDNS with no --peer, takes A's posts; it is carried to site B (its Wi-Fi
// link goes, a new one on B's bridge comes, with another address) while it keeps running, finds
// B's node the same way and hands A's posts over. A and B are never on one network.
const skip = netnsUnavailable()

t.test('a relay carried from one site\'s network to another\'s finds each site\'s node by mDNS and carries the posts', { skip: skip ?? false }, async t => {
  ensureBuilt()
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-carried-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const outpost = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' })
  outpost('community', 'create', '--out', 'secret.json', '--name', 'Valley')
  outpost('community', 'show', '--community', 'secret.json', '--public', '--out', 'public.json')
  const relayKey = outpost('community', 'request', '--data', path.join(dir, 'relay')).split('\n')[0] as string
  outpost('community', 'admit', '--community', 'secret.json', '--node', relayKey, '--relay', '--out', 'relay-cert.json')
  outpost('community', 'install', '--data', path.join(dir, 'relay'), 'relay-cert.json')
  const secret = path.join(dir, 'secret.json')

  const lab = await createLab(t)
  const [siteA, siteB] = [await lab.bridge(), await lab.bridge()]
  const ip = { a: '10.99.41.1', b: '10.99.42.1', relayAtA: '10.99.41.50', relayAtB: '10.99.42.50' }
  const nsA = await lab.host('a', [{ bridge: siteA, ifname: 'wlan0', cidr: `${ip.a}/24` }])
  const nsB = await lab.host('b', [{ bridge: siteB, ifname: 'wlan0', cidr: `${ip.b}/24` }])
  const nsR = await lab.host('relay', [{ bridge: siteA, ifname: 'wlan0', cidr: `${ip.relayAtA}/24` }])
  await Promise.all([startNode(lab, nsA, ip.a, dir, 'a', secret), startNode(lab, nsB, ip.b, dir, 'b', secret)])
  // the relay's HTTP listens on loopback in its namespace; sync on every interface it will ever have
  await startNode(lab, nsR, '127.0.0.1', dir, 'relay', path.join(dir, 'public.json'), ['--lan', '--role', 'relay', '--sync-host', '0.0.0.0'])
  const relayBase = base('127.0.0.1')

  const alice = signer()
  const posts = Array.from({ length: 20 }, (_, i) => alice.sign({ content: `news from site A ${i}`, created_at: 1_700_000_000 + i }))
  t.same((await nsPublish(lab, nsA, base(ip.a), posts)).map(r => r.ok), posts.map(() => true), 'A\'s phones posted')
  const ids = posts.map(e => e.id)
  const atRelay = await nsQuery(lab, nsR, relayBase, { ids }, ids.length, 30_000)
  t.equal(atRelay.ids.length, ids.length, `the relay found A by mDNS and took its ${ids.length} posts (${atRelay.ms} ms)`)
  const seen = await nsGetJson(lab, nsR, relayBase, '/api/sync') as { peers: Array<{ source: string, host: string }> }
  t.ok(seen.peers.some(p => p.source === 'lan' && p.host === ip.a), 'through a LAN peer at A\'s address, no --peer given')

  // carried away: the link to A goes; at B a new one comes up with B's addressing
  await lab.ip(nsR, ['link', 'del', 'wlan0'])
  await lab.connect(nsR, siteB, { ifname: 'wlan0', cidr: `${ip.relayAtB}/24` })
  const atB = await nsQuery(lab, nsB, base(ip.b), { ids }, ids.length, 45_000)
  t.equal(atB.ids.length, ids.length, `B received A's posts from the relay (${atB.ms} ms after it arrived)`)
  const bSync = await nsGetJson(lab, nsB, base(ip.b), '/api/sync') as { peers: Array<{ key: string, source: string }> }
  t.same(bSync.peers.map(p => p.key), [relayKey], 'B only ever met the relay')
  const aSync = await nsGetJson(lab, nsA, base(ip.a), '/api/sync') as { delivery: { notLeftSince: string | null } }
  t.equal(aSync.delivery.notLeftSince, null, 'A knows its posts left with the relay')
})
