import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync, spawnSync } from 'node:child_process'
import { WebSocket } from 'ws'
import { spawnNode, ensureBuilt, BIN, ROOT, type NodeProcess } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { until } from './sync-helpers.js'
import { publish, fetchEvents, getJson } from './ws-client.js'

// Real `outpost start` processes on loopback, no LAN discovery, no swarm: the only way from
// site A to site B is the relay, carried from one to the other (a static peer at each site).
t.test('a relay carried from site A to site B delivers A\'s events to B; A and B never connect', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-relay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const outpost = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' })
  ensureBuilt()
  outpost('community', 'create', '--out', 'secret.json', '--name', 'Valley')
  outpost('community', 'show', '--community', 'secret.json', '--public', '--out', 'public.json')
  // the relay asks, the organiser admits it as a relay, the relay installs the certificate
  const relayKey = outpost('community', 'request', '--data', 'relay').split('\n')[0] as string
  t.match(outpost('community', 'admit', '--community', 'secret.json', '--node', relayKey, '--relay', '--out', 'relay-cert.json'), /admitted relay/)
  outpost('community', 'install', '--data', 'relay', 'relay-cert.json')

  const quiet = ['--swarm', 'off', '--no-lan']
  const syncPort = async (n: NodeProcess): Promise<number> => (await getJson(n.port, '/api/sync')).listen.port as number
  const a = await spawnNode(t, ['--data', path.join(dir, 'a'), '--community', path.join(dir, 'secret.json'), ...quiet])
  const b = await spawnNode(t, ['--data', path.join(dir, 'b'), '--community', path.join(dir, 'secret.json'), ...quiet])
  const relayArgs = ['--data', path.join(dir, 'relay'), '--community', path.join(dir, 'public.json'), '--role', 'relay', ...quiet]

  const alice = signer()
  const profile = alice.sign({ kind: 0, content: JSON.stringify({ name: 'Alice of A' }) })
  const posts = Array.from({ length: 30 }, (_, i) => alice.sign({ content: `news from site A ${i}`, tags: [['t', 'valley']], created_at: 1_700_000_000 + i }))
  for (const e of [profile, ...posts]) t.equal((await publish(a.port, e)).ok, true)

  // at site A
  let relay = await spawnNode(t, [...relayArgs, '--peer', `127.0.0.1:${await syncPort(a)}`])
  const t0 = Date.now()
  await until(async () => (await fetchEvents(relay.port, { authors: [alice.pubkey], limit: 100 })).length === 31, 20_000, 'A -> relay')
  t.pass(`the relay took A's 31 events in ${Date.now() - t0} ms`)

  // the relay showed a relay certificate: for A's delivery view, A's posts have left the site
  await until(async () => {
    const d = (await getJson(a.port, '/api/sync')).delivery
    return d?.lastWiderContact !== null && d?.notLeftSince === null
  }, 10_000, 'A sees its posts carried off')
  const delivery = (await getJson(a.port, '/api/sync')).delivery
  t.equal(delivery.pendingBlocks, 0, 'nothing of A waits for the wider community')
  t.ok(delivery.lastWiderContact !== null, 'the relay counts as contact with the wider community')
  t.ok(delivery.peers.some((p: { key: string, wider: boolean }) => p.key === relayKey && p.wider), 'the relay is a wider peer though it came as a static peer')

  const refused = await publish(relay.port, alice.sign({ content: 'written at the relay' }))
  t.equal(refused.ok, false, 'the relay refuses a WebSocket EVENT')
  t.match(refused.message, /^restricted: /)
  const st = await getJson(relay.port, '/api/sync')
  t.equal(st.role, 'relay')
  t.equal(st.node, relayKey, 'the key the organiser admitted')
  t.same({ admitted: st.community.admitted, writer: st.community.writer }, { admitted: true, writer: false })
  t.ok(st.logs.length >= 1, 'it carries A\'s log')
  t.equal(st.logs.filter((l: { own: boolean }) => l.own).length, 0, 'no log of its own')
  t.equal((await getJson(relay.port, '/api/health')).store.log, null, 'no writer log in the store')
  const nip11 = await (await fetch(`http://127.0.0.1:${relay.port}/`, { headers: { Accept: 'application/nostr+json' } })).json() as { limitation: { restricted_writes: boolean } }
  t.equal(nip11.limitation.restricted_writes, true, 'NIP-11 says writes are restricted')
  const home = await fetch(`http://127.0.0.1:${relay.port}/`)
  t.equal(home.status, 200)
  const html = await home.text()
  t.match(html, /news from site A 29/, 'the mirror shows A\'s posts at /')
  t.match(html, /Alice of A/, 'with the author\'s name')

  // carried to site B: a fresh process with only B as its peer
  relay.proc.kill('SIGTERM')
  t.equal(await relay.exited, 0, 'the relay closed cleanly')
  relay = await spawnNode(t, [...relayArgs, '--peer', `127.0.0.1:${await syncPort(b)}`])
  const t1 = Date.now()
  await until(async () => (await fetchEvents(b.port, { authors: [alice.pubkey], limit: 100 })).length === 31, 20_000, 'relay -> B')
  t.pass(`B received A's 31 events from the relay in ${Date.now() - t1} ms`)
  // and back the other way: B's news rides the relay too
  const bob = signer()
  const fromB = bob.sign({ content: 'news from site B' })
  t.equal((await publish(b.port, fromB)).ok, true)
  await until(async () => (await fetchEvents(relay.port, { ids: [fromB.id] })).length === 1, 20_000, 'B -> relay')

  const aKey = (await getJson(a.port, '/api/sync')).node as string
  const bSync = await getJson(b.port, '/api/sync')
  t.same(bSync.peers.map((p: { key: string }) => p.key), [relayKey], 'B only ever met the relay')
  t.notOk((await getJson(a.port, '/api/sync')).peers.some((p: { key: string }) => p.key === bSync.node), 'A never met B')
  t.ok(bSync.logs.some((l: { node: string }) => l.node === aKey), 'B carries A\'s log, certified by A')
  t.notOk(bSync.logs.some((l: { node: string }) => l.node === relayKey), 'and no log of the relay')
})

t.test('the relay role refuses a community file holding the secret, and needs a community', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-relay-secret-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  ensureBuilt()
  execFileSync(process.execPath, [BIN, 'community', 'create', '--out', 'secret.json'], { cwd: dir })
  const run = (...args: string[]): { status: number | null, stderr: string } => {
    const r = spawnSync(process.execPath, [BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--sync-host', '127.0.0.1', '--sync-port', '0', '--no-log-pretty', '--swarm', 'off', '--no-lan', '--role', 'relay', '--data', path.join(dir, 'data'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
    return { status: r.status, stderr: r.stderr }
  }
  const withSecret = run('--community', path.join(dir, 'secret.json'))
  t.equal(withSecret.status, 2, 'exit 2')
  t.match(withSecret.stderr, /holds its secret key/)
  t.match(withSecret.stderr, /community show --community FILE --public/)
  const none = run()
  t.equal(none.status, 2)
  t.match(none.stderr, /relay role needs --community/)
})

t.test('a relay that meets nobody still serves its WebSocket for reading', async t => {
  const relay = await spawnNode(t, ['--role', 'relay', '--community', 'cd'.repeat(32), '--data', await mkdtemp(path.join(tmpdir(), 'outpost-test-relay-empty-')), '--swarm', 'off', '--no-lan'])
  t.same(await fetchEvents(relay.port, { kinds: [1] }), [], 'REQ works, nothing stored')
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  ws.send(JSON.stringify(['EVENT', { not: 'an event' }]))
  const [m] = await new Promise<unknown[][]>(resolve => ws.once('message', (d: Buffer) => resolve([JSON.parse(d.toString()) as unknown[]])))
  ws.close()
  t.equal((m as unknown[])[0], 'OK')
  t.equal((m as unknown[])[2], false)
  t.match(String((m as unknown[])[3]), /^restricted: /, 'even a malformed EVENT gets the relay\'s reason')
})
