import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import createTestnet from 'hyperdht/testnet.js'
import { spawnNode, BIN } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { until } from './sync-helpers.js'
import { publish, fetchEvents, getJson } from './ws-client.js'

// Two sites (real `outpost start` processes, separate data dirs, no static peers, no LAN)
// whose only way to meet is the community's topic on a private DHT: a hyperdht testnet on
// loopback, given to the nodes as --bootstrap only.
t.test('two sites that never peer directly converge through the DHT (--swarm on --bootstrap)', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-swarm-node-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const testnet = await createTestnet(3)
  t.teardown(async () => { await testnet.destroy() })
  const bootstrap = testnet.bootstrap.flatMap(b => ['--bootstrap', `${b.host}:${b.port}`])
  execFileSync(process.execPath, [BIN, 'community', 'create', '--out', 'secret.json', '--name', 'Sites'], { cwd: dir })
  const community = path.join(dir, 'secret.json')

  const started = Date.now()
  const a = await spawnNode(t, ['--data', path.join(dir, 'a'), '--community', community, '--swarm', 'on', ...bootstrap])
  const b = await spawnNode(t, ['--data', path.join(dir, 'b'), '--community', community, '--swarm', 'on', ...bootstrap])
  const sa = await getJson(a.port, '/api/sync')
  t.equal(sa.swarm.mode, 'on')
  t.match(sa.swarm.uplink, { state: /^(online|offline)$/, since: String })
  const health = await getJson(a.port, '/api/health')
  t.equal(health.uplink.state, sa.swarm.uplink.state, '/api/health shows the uplink too')

  const s = signer()
  const ea = s.sign({ content: 'written at site A' })
  const eb = s.sign({ content: 'written at site B' })
  t.same(await publish(a.port, ea), { ok: true, message: '' })
  t.same(await publish(b.port, eb), { ok: true, message: '' })
  await until(async () => (await fetchEvents(b.port, { ids: [ea.id] })).length === 1 && (await fetchEvents(a.port, { ids: [eb.id] })).length === 1, 40_000, 'both sites converge')
  t.comment(`converged ${Date.now() - started} ms after the first node started`)

  for (const n of [a, b]) {
    const st = await getJson(n.port, '/api/sync')
    const live = (st.peers as Array<{ source: string, connected: boolean }>).filter(p => p.connected)
    t.same(live.map(p => p.source), ['swarm'], 'the one session is a swarm one')
    t.equal(st.swarm.state, 'joined')
    t.ok(st.swarm.connections >= 1)
    t.same(st.addresses, [], 'no static or LAN address was ever dialed')
  }

  // clean shutdown: the swarm closes before the sync manager and the store
  a.proc.kill('SIGTERM')
  b.proc.kill('SIGTERM')
  t.equal(await a.exited, 0, 'A closed cleanly')
  t.equal(await b.exited, 0, 'B closed cleanly')
  t.notMatch(a.output() + b.output(), /"level":50/, 'no errors logged')
})

t.test('--swarm off creates nothing', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-swarm-off-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const n = await spawnNode(t, ['--data', dir, '--swarm', 'off', '--bootstrap', '127.0.0.1:9'])
  const st = await getJson(n.port, '/api/sync')
  t.same(st.swarm, { mode: 'off' })
  t.equal((await getJson(n.port, '/api/health')).uplink, null)
  t.notMatch(n.output(), /"scope":"(swarm|uplink)"|watching for an uplink|internet swarm/, 'no uplink monitor, no swarm in the log')
})
