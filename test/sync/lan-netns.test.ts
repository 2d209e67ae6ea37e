import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLab, netnsUnavailable, type Lab, type NsProcess } from '../helpers/netns.js'
import { BIN, ensureBuilt } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { startRaw } from './mdns-lab.js'
import { SYNC, base, nsGetJson, nsPublish, nsQuery, startNode } from './ns-client.js'

// Issue 5 test (b): full `outpost start` processes in network namespaces on bridges, `--lan`
// and no `--peer`: they find each other over real mDNS and replicate. Every address used is
// inside namespaces this test creates.
const skip = netnsUnavailable()


interface Peer { key: string, source: string, host: string, connected: boolean, dialed: boolean }
interface SyncStatus { node: string, peers: Peer[], addresses: Array<{ host: string, port: number, source: string, key: string | null }>, logs: Array<{ key: string, own: boolean }> }

async function setup (t: Test): Promise<{ dir: string, lab: Lab, outpost: (...args: string[]) => string }> {
  ensureBuilt()
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-lan-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const outpost = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' })
  return { dir, lab: await createLab(t), outpost }
}


t.test('nodes in separate namespaces find each other by mDNS alone and converge; another community stays apart; a restarted node catches up; --no-lan advertises nothing', { skip: skip ?? false }, async t => {
  const { dir, lab, outpost } = await setup(t)
  outpost('community', 'create', '--out', 'field.json', '--name', 'Field')
  outpost('community', 'create', '--out', 'other.json', '--name', 'Other')
  const field = path.join(dir, 'field.json')
  const other = path.join(dir, 'other.json')

  const br = await lab.bridge()
  const ip = { a: '10.99.20.1', b: '10.99.20.2', c: '10.99.20.3', d: '10.99.20.4', e: '10.99.20.5', s: '10.99.20.9' }
  const ns = {} as Record<keyof typeof ip, string>
  for (const k of Object.keys(ip) as Array<keyof typeof ip>) ns[k] = await lab.host(k, [{ bridge: br, ifname: 'eth0', cidr: `${ip[k]}/24` }])

  // a raw multicast-dns browser on the bridge: asks for _outpost._tcp and prints every answer
  const sniffer = await startRaw(lab, ns.s, { address: ip.s, sniff: true, packets: [{ type: 'query', questions: [{ name: '_outpost._tcp.local', type: 'PTR' }] }] })

  const t0 = Date.now()
  const [, , c0] = await Promise.all([
    startNode(lab, ns.a, ip.a, dir, 'a', field),
    startNode(lab, ns.b, ip.b, dir, 'b', field),
    startNode(lab, ns.c, ip.c, dir, 'c', field),
    startNode(lab, ns.d, ip.d, dir, 'd', other),
    // same community, LAN discovery off: must be invisible
    startNode(lab, ns.e, ip.e, dir, 'e', field, ['--no-lan'])
  ])
  let c = c0 as NsProcess
  t.comment(`five nodes listening in ${Date.now() - t0} ms`)

  const s = signer()
  const fromA = s.sign({ content: 'hello from A, over the LAN' })
  const fromD = s.sign({ content: 'hello from another community' })
  t.same(await nsPublish(lab, ns.a, base(ip.a), [fromA]), [{ ok: true, message: '' }])
  t.same(await nsPublish(lab, ns.d, base(ip.d), [fromD]), [{ ok: true, message: '' }])
  const onC = await nsQuery(lab, ns.c, base(ip.c), { ids: [fromA.id] }, 1, 20_000)
  t.same(onC.ids, [fromA.id], `A's event reached C (${onC.ms} ms after publishing, ${Date.now() - t0} ms after start)`)

  const fromC = s.sign({ content: 'hello from C' })
  t.same(await nsPublish(lab, ns.c, base(ip.c), [fromC]), [{ ok: true, message: '' }])
  const onA = await nsQuery(lab, ns.a, base(ip.a), { ids: [fromC.id] }, 1, 20_000)
  t.same(onA.ids, [fromC.id], `C's event reached A in ${onA.ms} ms`)
  t.same((await nsQuery(lab, ns.b, base(ip.b), { ids: [fromA.id, fromC.id] }, 2, 10_000)).ids.sort(), [fromA.id, fromC.id].sort(), 'and B has both')

  const status = async (k: 'a' | 'b' | 'c' | 'd' | 'e'): Promise<SyncStatus> => await nsGetJson(lab, ns[k], base(ip[k]), '/api/sync')
  // events flowing does not yet mean a full mesh (B may have had them through A): wait for it
  const meshed = async (k: 'a' | 'b' | 'c'): Promise<SyncStatus> => {
    const end = Date.now() + 15_000
    for (;;) {
      const st = await status(k)
      if (st.peers.filter(p => p.connected && p.source === 'lan').length === 2 || Date.now() > end) return st
      await sleep(300)
    }
  }
  const [sa, sb, sc, sd, se] = await Promise.all([meshed('a'), meshed('b'), meshed('c'), status('d'), status('e')])
  const keys = { a: sa.node, b: sb.node, c: sc.node }
  for (const [me, st, others] of [['a', sa, ['b', 'c']], ['b', sb, ['a', 'c']], ['c', sc, ['a', 'b']]] as const) {
    for (const o of others) {
      const p = st.peers.find(p => p.key === keys[o])
      t.match(p, { source: 'lan', host: ip[o], connected: true }, `${me} syncs with ${o}, found on the LAN, at ${ip[o]}`)
      t.ok(st.addresses.some(x => x.source === 'lan' && x.host === ip[o] && x.port === SYNC && x.key === keys[o]), `${me} found ${o}'s sync port by mDNS`)
    }
    t.equal(st.peers.length, 2, `${me} has exactly the two peers of its community`)
    t.notOk(st.addresses.some(x => x.host === ip.d || x.host === ip.e), `${me} never learnt D's or E's address`)
  }
  // one connection per pair: exactly one side of each pair dialed
  t.equal(sa.peers.filter(p => p.key === keys.b)[0]?.dialed, !sb.peers.filter(p => p.key === keys.a)[0]?.dialed, 'one connection between A and B')

  t.same(sd.peers, [], 'the other community\'s node has no peer')
  t.same(sd.addresses, [], 'and no address to dial')
  t.same(se.peers, [], 'the --no-lan node has no peer')
  t.same((await nsQuery(lab, ns.d, base(ip.d), { ids: [fromA.id, fromC.id] }, 0, 0)).ids, [], 'D got nothing of the community')
  t.same((await nsQuery(lab, ns.a, base(ip.a), { ids: [fromD.id] }, 0, 0)).ids, [], 'and nothing of D reached A')
  const dLogs = new Set(sd.logs.map(l => l.key))
  t.notOk([...sa.logs, ...sb.logs, ...sc.logs].some(l => dLogs.has(l.key)), 'no node carries a log of D')

  // C goes away (clean stop: goodbyes), A keeps writing, C comes back and rediscovers
  t.equal(await c.stop('SIGTERM', 10_000), 0, 'C stopped cleanly')
  await sleep(1000)
  // records live 120 s: only C's goodbye on the way out makes its peers forget it this soon
  for (const k of ['a', 'b'] as const) {
    const st = await status(k)
    t.notOk(st.addresses.some(x => x.host === ip.c) || st.peers.some(p => p.key === keys.c), `${k} dropped C's address and session at once (goodbye)`)
  }
  const later = Array.from({ length: 20 }, (_, i) => s.sign({ content: `while C was away ${i}`, created_at: 1_700_000_000 + i }))
  t.ok((await nsPublish(lab, ns.a, base(ip.a), later)).every(r => r.ok), 'A took 20 more events')
  const back = Date.now()
  c = await startNode(lab, ns.c, ip.c, dir, 'c', field)
  const caught = await nsQuery(lab, ns.c, base(ip.c), { ids: later.map(e => e.id) }, later.length, 20_000)
  t.equal(caught.ids.length, later.length, `C rediscovered its peers and caught up (${Date.now() - back} ms from restart)`)
  const sc2 = await meshed('c')
  t.same(sc2.peers.map(p => p.source), ['lan', 'lan'], 'by LAN discovery again')
  t.same(sc2.peers.map(p => p.key).sort(), [keys.a, keys.b].sort(), 'with both its peers')

  // --no-lan: the browser heard A's and the others' answers, never one from E
  const heard = (sniffer.json() as Array<{ event: string, from: string, records: Array<{ type: string, data: unknown }> }>).filter(v => v.event === 'response')
  t.ok(heard.some(r => r.from === ip.a), 'the browser heard A (it works)')
  t.notOk(heard.some(r => r.from === ip.e || r.records.some(x => x.data === ip.e)), 'nothing was ever advertised by the --no-lan node')
  const udp = async (k: 'a' | 'e'): Promise<string> => { const p = lab.spawn(ns[k], 'ss', ['-uln']); await p.exited; return p.output() }
  t.match(await udp('a'), /:5353\b/, 'a --lan node has its mDNS socket')
  t.notMatch(await udp('e'), /:5353\b/, 'the --no-lan node opened none')
})

t.test('a hotspot with an AP side and an uplink side syncs with a peer on each, each through its own side\'s address', { skip: skip ?? false }, async t => {
  const { dir, lab, outpost } = await setup(t)
  outpost('community', 'create', '--out', 'field.json', '--name', 'Field')
  const field = path.join(dir, 'field.json')
  const ap = await lab.bridge()
  const uplink = await lab.bridge()
  const ip = { hAp: '10.99.21.1', hUp: '10.99.22.1', p: '10.99.21.2', q: '10.99.22.2' }
  const h = await lab.host('hotspot', [{ bridge: ap, ifname: 'wlan0', cidr: `${ip.hAp}/24` }, { bridge: uplink, ifname: 'eth0', cidr: `${ip.hUp}/24` }])
  const p = await lab.host('phone-side', [{ bridge: ap, ifname: 'eth0', cidr: `${ip.p}/24` }])
  const q = await lab.host('uplink-side', [{ bridge: uplink, ifname: 'eth0', cidr: `${ip.q}/24` }])
  await Promise.all([
    startNode(lab, h, ip.hAp, dir, 'h', field),
    startNode(lab, p, ip.p, dir, 'p', field),
    startNode(lab, q, ip.q, dir, 'q', field),
    // a second node on the hotspot whose sync port is bound to the AP address only: it must
    // advertise on the AP side only (on the uplink its port would be closed)
    startNode(lab, h, ip.hAp, dir, 'h-ap-only', field, ['--lan', '--port', '8081', '--sync-port', '7708', '--sync-host', ip.hAp])
  ])

  const s = signer()
  const fromP = s.sign({ content: 'from the AP side' })
  const fromQ = s.sign({ content: 'from the uplink side' })
  t.same(await nsPublish(lab, p, base(ip.p), [fromP]), [{ ok: true, message: '' }])
  t.same(await nsPublish(lab, q, base(ip.q), [fromQ]), [{ ok: true, message: '' }])
  t.same((await nsQuery(lab, q, base(ip.q), { ids: [fromP.id] }, 1, 20_000)).ids, [fromP.id], 'the AP side\'s event reached the uplink side through the hotspot')
  t.same((await nsQuery(lab, p, base(ip.p), { ids: [fromQ.id] }, 1, 20_000)).ids, [fromQ.id], 'and the other way')

  const [sh, sp, sq] = await Promise.all([nsGetJson(lab, h, base(ip.hAp), '/api/sync'), nsGetJson(lab, p, base(ip.p), '/api/sync'), nsGetJson(lab, q, base(ip.q), '/api/sync')]) as SyncStatus[]
  if (sh === undefined || sp === undefined || sq === undefined) throw new Error('unreachable')
  t.match(sh.peers.find(x => x.key === sp.node), { source: 'lan', host: ip.p }, 'the hotspot syncs with the AP-side peer at its AP-side address')
  t.match(sh.peers.find(x => x.key === sq.node), { source: 'lan', host: ip.q }, 'and with the uplink-side peer at its uplink address')
  const apOnly = await nsGetJson(lab, h, `http://${ip.hAp}:8081`, '/api/sync') as SyncStatus
  t.same(sp.peers.map(x => [x.key, x.source, x.host]).sort(), [[sh.node, 'lan', ip.hAp], [apOnly.node, 'lan', ip.hAp]].sort(), 'the AP-side peer knows both hotspot nodes by the AP address')
  t.same(sq.peers.map(x => [x.key, x.source, x.host]), [[sh.node, 'lan', ip.hUp]], 'the uplink-side peer knows it by its uplink address')
  t.same(sp.addresses.map(x => `${x.host}:${x.port}`).sort(), [`${ip.hAp}:7707`, `${ip.hAp}:7708`], 'the AP side found both hotspot nodes at the AP address, never the uplink one')
  t.same(sq.addresses.map(x => `${x.host}:${x.port}`), [`${ip.hUp}:7707`], 'the uplink side found only the node listening there')
  t.ok(sq.logs.some(l => sp.logs.some(m => m.own && m.key === l.key)), 'the uplink side carries the AP-side peer\'s log (store-and-forward)')
})
