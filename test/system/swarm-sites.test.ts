import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BIN, ROOT, spawnNode, type NodeProcess } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import { FIXTURES, IS_ROOT, makeSites, spawnIn, udpCounters } from './netns.js'

// Two full nodes (`outpost start`) of one community, separate data dirs, no static peers, no
// LAN: site A in its own namespace with `--swarm auto` (UplinkMonitor-driven), site B "on the
// internet" with `--swarm on`, next to the private DHT (a bootstrapper and two persistent nodes).
// A's uplink is its default route, added and removed by the test.
const sh = (ns: string, ...args: string[]): string => execFileSync('ip', ['netns', 'exec', ns, ...args], { cwd: ROOT, encoding: 'utf8' })
const api = (ns: string, n: NodeProcess, route: string): any => JSON.parse(sh(ns, 'curl', '-s', '--max-time', '5', `http://127.0.0.1:${n.port}${route}`))
const nostr = (ns: string, n: NodeProcess, cmd: 'publish' | 'count', v: unknown): any => JSON.parse(sh(ns, process.execPath, path.join(FIXTURES, 'nostr.mjs'), String(n.port), cmd, JSON.stringify(v)))
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
async function until (fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

t.test('two sites converge through the DHT when the uplink is on; no swarm traffic while off; flapping converges', { skip: !IS_ROOT && 'needs root (ip netns)' }, async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-sites-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  execFileSync(process.execPath, [BIN, 'community', 'create', '--out', 'c.json', '--name', 'Two sites'], { cwd: dir })
  const net = makeSites(t)
  const inet = spawnIn(t, net.inet, 'internet.mjs', { host: net.dhtHost, size: 3, bootstrapper: true })
  const ready = await inet.waitFor(e => e.event === 'ready', 15000, 'DHT', 0)
  const bootstrap = (ready.bootstrap as Array<{ host: string, port: number }>).flatMap(b => ['--bootstrap', `${b.host}:${b.port}`])
  const common = ['--community', path.join(dir, 'c.json'), ...bootstrap]
  const a = await spawnNode(t, ['--data', path.join(dir, 'a'), '--swarm', 'auto', ...common], { netns: net.site })
  const b = await spawnNode(t, ['--data', path.join(dir, 'b'), '--swarm', 'on', ...common], { netns: net.inet })
  const s = signer()
  const has = (ns: string, n: NodeProcess, e: NostrEvent): boolean => nostr(ns, n, 'count', { ids: [e.id] }).count === 1
  const write = (ns: string, n: NodeProcess, text: string): NostrEvent => {
    const e = s.sign({ content: text })
    t.same(nostr(ns, n, 'publish', e), { ok: true, message: '' }, `published ${text}`)
    return e
  }

  // offline: A writes, nothing leaves, not one UDP datagram from the site
  t.equal(api(net.site, a, '/api/sync').swarm.uplink.state, 'offline', 'A starts offline (no default route)')
  const u0 = udpCounters(net.site)
  const e1 = write(net.site, a, 'A, offline')
  const e2 = write(net.inet, b, 'B, online')
  await sleep(6000)
  const u1 = udpCounters(net.site)
  t.same({ out: u1.out - u0.out, in: u1.in - u0.in }, { out: 0, in: 0 }, 'uplink off: no swarm traffic (no UDP at all from the site)')
  t.notOk(has(net.inet, b, e1), 'B has not got A\'s post')
  const d0 = api(net.site, a, '/api/sync').delivery
  t.ok(d0.notLeftSince !== null, `A: ${d0.text[0] as string}`)
  t.equal(d0.lastWiderContact, null, 'A: never in contact with the wider community')

  // uplink on: the sites converge through the DHT
  let t0 = Date.now()
  net.addDefaultRoute()
  await until(() => has(net.inet, b, e1) && has(net.site, a, e2), 40000, 'converged')
  t.comment(`converged ${Date.now() - t0} ms after the route appeared`)
  const st = api(net.site, a, '/api/sync')
  t.equal(st.swarm.uplink.state, 'online')
  t.same(st.peers.filter((p: { connected: boolean }) => p.connected).map((p: { source: string }) => p.source), ['swarm'], 'A\'s only peer came through the swarm')
  await until(() => api(net.site, a, '/api/sync').delivery.notLeftSince === null, 5000, 'delivered')
  t.pass('A: every post written here has left this site')

  // flapping: the route goes and comes back three times, quickly, with writes on both sides
  const pending: NostrEvent[] = []
  for (let i = 1; i <= 3; i++) {
    net.delDefaultRoute()
    pending.push(write(net.site, a, `A, flap ${i}`), write(net.inet, b, `B, flap ${i}`))
    await sleep(i === 2 ? 500 : 6000)
    net.addDefaultRoute()
    await sleep(i === 2 ? 500 : 3000)
  }
  t0 = Date.now()
  await until(() => pending.every((e, i) => i % 2 === 0 ? has(net.inet, b, e) : has(net.site, a, e)), 60000, 'converged after flapping')
  t.comment(`converged ${Date.now() - t0} ms after the last flap`)
  t.pass('flapping uplink: both sites converge')
  const logs = (n: NodeProcess): Array<{ level: number, msg: string }> => n.output().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { level: number, msg: string })
  t.same(logs(a).filter(l => l.level >= 50), [], 'A: no errors logged')
  const transitions = logs(a).filter(l => l.msg === 'uplink online' || l.msg === 'uplink offline').length
  t.ok(transitions >= 2, `A logged its uplink transitions (${transitions})`)
})
