import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { spawnNode, BIN, type NodeProcess } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { until } from './sync-helpers.js'
import { publish, fetchEvents, getJson } from './ws-client.js'

// Real `outpost start` processes on loopback, static peers, a closed community:
// A and B hold the organiser's file; C has only the public file and a certificate.
t.test('three nodes in a line: publish on A, read on C; both directions; C catches up after a restart', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-3nodes-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const outpost = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' })
  outpost('community', 'create', '--out', 'secret.json', '--name', 'Line')
  outpost('community', 'show', '--community', 'secret.json', '--public', '--out', 'public.json')
  outpost('community', 'admit', '--community', 'secret.json', '--data', 'c')

  const syncPort = async (n: NodeProcess): Promise<number> => (await getJson(n.port, '/api/sync')).listen.port as number
  const a = await spawnNode(t, ['--data', path.join(dir, 'a'), '--community', path.join(dir, 'secret.json')])
  const b = await spawnNode(t, ['--data', path.join(dir, 'b'), '--community', path.join(dir, 'secret.json'), '--peer', `127.0.0.1:${await syncPort(a)}`])
  const bSync = await syncPort(b)
  const cArgs = ['--data', path.join(dir, 'c'), '--community', path.join(dir, 'public.json'), '--peer', `127.0.0.1:${bSync}`]
  let c = await spawnNode(t, cArgs)

  const s = signer()
  const e1 = s.sign({ content: 'hello from A' })
  t.same(await publish(a.port, e1), { ok: true, message: '' })
  const t0 = Date.now()
  await until(async () => (await fetchEvents(c.port, { ids: [e1.id] })).length === 1, 20_000, 'A -> C through B')
  t.pass(`A's event reached C (never connected to A) in ${Date.now() - t0} ms`)

  const e2 = s.sign({ content: 'hello from C' })
  t.same(await publish(c.port, e2), { ok: true, message: '' })
  await until(async () => (await fetchEvents(a.port, { ids: [e2.id] })).length === 1, 20_000, 'C -> A through B')
  t.pass('C\'s event reached A')

  const st = await getJson(c.port, '/api/sync')
  t.equal(st.community.admitted, true, 'C is admitted by its certificate')
  t.equal(st.peers.length, 1)
  t.equal(st.peers[0].source, 'static')
  t.ok(st.peers[0].bytesIn > 0 && st.peers[0].bytesOut > 0)
  t.ok(st.logs.length >= 3, 'C carries the logs of A, B and its own')
  for (const l of st.logs) t.equal(l.lag, 0, `log ${String(l.key).slice(0, 8)} has no lag`)

  // C goes away; A keeps writing; C comes back and catches up
  c.proc.kill('SIGTERM')
  t.equal(await c.exited, 0, 'C closed cleanly')
  const later = Array.from({ length: 20 }, (_, i) => s.sign({ content: `while C was away ${i}`, created_at: 1_700_000_000 + i }))
  for (const e of later) t.equal((await publish(a.port, e)).ok, true)
  c = await spawnNode(t, cArgs)
  await until(async () => (await fetchEvents(c.port, { authors: [s.pubkey], limit: 100 })).length === 22, 20_000, 'C catches up')
  t.pass('C caught up with everything written while it was away')
})
