import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { WebSocket } from 'ws'
import { naddrEncode, neventEncode, npubEncode, nsecEncode } from 'nostr-tools/nip19'
import { generateSecretKey } from 'nostr-tools/pure'
import { spawnNode, BIN, type NodeProcess } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { until } from '../sync/sync-helpers.js'
import { publish, fetchEvents, getJson } from '../sync/ws-client.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import { AdminClient, textOf, writePasswordFile } from './admin-client.js'

const PASSWORD = 'correct horse battery'

async function tempDir (prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `outpost-test-admin-${prefix}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A live subscription, resolved once EOSE came: `events` collects what arrives live after it. */
async function subscribe (port: number, filter: Record<string, unknown>): Promise<{ events: NostrEvent[], close: () => void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const events: NostrEvent[] = []
  let stored = true
  await new Promise<void>(resolve => {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as unknown[]
      if (m[0] === 'EVENT' && m[1] === 'live' && !stored) events.push(m[2] as NostrEvent)
      if (m[0] === 'EOSE') { stored = false; resolve() }
    })
    ws.send(JSON.stringify(['REQ', 'live', filter]))
  })
  return { events, close: () => { ws.close() } }
}

const ids = (events: NostrEvent[]): string[] => events.map(e => e.id).sort()

t.test('no password configured: /admin says how to set one and exposes nothing', async t => {
  const dir = await tempDir('nopw')
  const node = await spawnNode(t, ['--data', path.join(dir, 'data')])
  const c = new AdminClient(node.port)
  const page = await c.get('/admin')
  t.equal(page.status, 403)
  t.match(textOf(page.body), /No admin password is set/)
  t.match(textOf(page.body), /--admin-password-file/, 'says how to set one')
  t.notMatch(page.body, /Events stored|name="csrf"|Log in/, 'no figures, no form')
  t.equal(page.headers['content-security-policy'], "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
  for (const route of ['/admin/login', '/admin/block', '/admin/hide']) {
    const r = await c.post(route, { password: PASSWORD, pubkey: 'a'.repeat(64), csrf: 'x' })
    t.equal(r.status, 403, `POST ${route} refused`)
    t.notMatch(r.body, /Events stored/)
  }
  t.equal(c.cookies.size, 0, 'no cookie handed out')

  // configured, but the file is missing: closed too, and it says why
  const broken = await spawnNode(t, ['--data', path.join(dir, 'data2'), '--admin-password-file', path.join(dir, 'nope.scrypt')])
  const b = await new AdminClient(broken.port).get('/admin')
  t.equal(b.status, 403)
  t.match(textOf(b.body), /cannot be used: the file does not exist/)
  t.match(await broken.waitForOutput(/admin password file unusable/), /admin password file unusable/)
})

t.test('login: wrong password refused, then rate-limited per address; the right one opens a session; logout ends it', async t => {
  const dir = await tempDir('login')
  const node = await spawnNode(t, ['--data', path.join(dir, 'data'), '--admin-password-file', writePasswordFile(dir, PASSWORD)])

  const guesser = new AdminClient(node.port, '127.0.0.3')
  for (let i = 1; i <= 5; i++) {
    const r = await guesser.login(`guess number ${i}`)
    t.equal(r.status, 403, `wrong password ${i} refused`)
    t.match(textOf(r.body), /Wrong password/)
    t.match(textOf(r.body), i < 5 ? new RegExp(`${5 - i} more tr`) : /Too many tries/)
  }
  const locked = await guesser.login(PASSWORD)
  t.equal(locked.status, 429, 'the 6th try is refused even with the right password')
  t.ok(Number(locked.headers['retry-after']) > 800, `Retry-After ${String(locked.headers['retry-after'])} s`)
  t.notOk(guesser.cookies.has('outpost_admin'), 'no session')

  // another address is not locked out; a form without its token is refused
  const admin = new AdminClient(node.port, '127.0.0.4')
  const noToken = await admin.post('/admin/login', { password: PASSWORD })
  t.equal(noToken.status, 403, 'login form without its token refused')
  const ok = await admin.login(PASSWORD)
  t.equal(ok.status, 303)
  t.equal(ok.headers.location, '/admin')
  const cookie = ([] as string[]).concat(ok.headers['set-cookie'] ?? []).find(c => c.startsWith('outpost_admin='))
  t.ok(cookie, 'session cookie set')
  t.match(cookie, /; path=\/admin/i)
  t.match(cookie, /; httponly/i)
  t.match(cookie, /; samesite=strict/i)
  t.match(cookie, /; expires=/i)
  t.match(cookie, /^outpost_admin=[A-Za-z0-9_-]{43};/, '32 random bytes')
  const dash = await admin.get('/admin')
  t.equal(dash.status, 200)
  t.match(textOf(dash.body), /Events stored/)
  t.match(await node.waitForOutput(/admin logged in/), /admin logged in/)

  // logout needs the form token too; then the old cookie opens nothing
  const stolen = admin.cookies.get('outpost_admin') as string
  t.equal((await admin.post('/admin/logout', {})).status, 403, 'logout without the token refused')
  const out = await admin.post('/admin/logout', { csrf: await admin.csrf() })
  t.equal(out.status, 303)
  t.notOk(admin.cookies.has('outpost_admin'), 'cookie cleared')
  const replay = new AdminClient(node.port, '127.0.0.4')
  replay.cookies.set('outpost_admin', stolen)
  const after = await replay.get('/admin')
  t.match(after.body, /Log in/, 'the old session is gone')
  t.notMatch(after.body, /Events stored/)
})

t.test('moderation across three nodes: X -> Y (moderated) -> Z; block, hide, restart, unblock', async t => {
  const dir = await tempDir('mod')
  const outpost = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' })
  outpost('community', 'create', '--out', 'secret.json', '--name', 'Moderated')
  const community = path.join(dir, 'secret.json')
  const syncPort = async (n: NodeProcess): Promise<number> => (await getJson(n.port, '/api/sync')).listen.port as number
  const x = await spawnNode(t, ['--data', path.join(dir, 'x'), '--community', community])
  const yArgs = ['--data', path.join(dir, 'y'), '--community', community, '--peer', `127.0.0.1:${await syncPort(x)}`, '--admin-password-file', writePasswordFile(dir, PASSWORD)]
  let y = await spawnNode(t, yArgs)
  const z = await spawnNode(t, ['--data', path.join(dir, 'z'), '--community', community, '--peer', `127.0.0.1:${await syncPort(y)}`])

  const a = signer() // the one to block
  const b = signer()
  const at = Math.floor(Date.now() / 1000) - 100
  const a1 = a.sign({ content: 'spam one', created_at: at })
  const a2 = a.sign({ content: 'spam two', created_at: at + 1 })
  const b1 = b.sign({ content: 'hello <b>campsite</b>', created_at: at + 2 })
  const b2 = b.sign({ content: 'second post', created_at: at + 3 })
  for (const e of [a1, a2, b1, b2]) t.same(await publish(y.port, e), { ok: true, message: '' })
  const ax1 = a.sign({ content: 'spam via X', created_at: at + 4 })
  t.same(await publish(x.port, ax1), { ok: true, message: '' })
  await until(async () => (await fetchEvents(y.port, { ids: [ax1.id] })).length === 1, 20_000, 'X -> Y')
  const live = await subscribe(y.port, { kinds: [1], since: at })
  t.teardown(live.close)

  const admin = new AdminClient(y.port)
  t.equal((await admin.login(PASSWORD)).status, 303)

  // the dashboard shows the running node's own figures
  await until(async () => (await getJson(y.port, '/api/sync')).peers.length === 2, 20_000, 'Y has both peers')
  const health = await getJson(y.port, '/api/health')
  const dash = textOf((await admin.get('/admin')).body)
  t.match(dash, new RegExp(`Events stored ${String(health.store.events)} `), `events stored = /api/health (${String(health.store.events)})`)
  t.match(dash, new RegExp(`Own log ${String(health.store.log.key).slice(0, 8)}`))
  t.match(dash, new RegExp(`Signature checks ${String(health.store.verifier)}`))
  t.match(dash, /Storage used on disk [\d.]+ (KiB|MiB|GiB)/)
  t.match(dash, /Phones accepted by the portal 0/)
  t.match(dash, /(Every post written here has left this site|Posts written here since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(.* ago\) have not left this site yet)\. (No contact with the wider community yet|Last contact with the wider community: .* ago\))\./, 'the delivery view, in words')
  const syncSt = await getJson(y.port, '/api/sync')
  for (const p of syncSt.peers) t.match(dash, new RegExp(String(p.key).slice(0, 8)), `peer ${String(p.key).slice(0, 8)} listed`)
  t.match(dash, /static/)

  // refused: no form token, a wrong one, or a form posted from another site
  const aNpub = npubEncode(a.pubkey)
  t.equal((await admin.post('/admin/block', { pubkey: aNpub })).status, 403, 'no CSRF token')
  t.equal((await admin.post('/admin/block', { pubkey: aNpub, csrf: 'x'.repeat(43) })).status, 403, 'wrong CSRF token')
  t.equal((await admin.post('/admin/block', { pubkey: aNpub, csrf: await admin.csrf() }, { Origin: 'http://evil.example' })).status, 403, 'cross-site Origin')
  t.equal((await new AdminClient(y.port).post('/admin/block', { pubkey: aNpub, csrf: await admin.csrf() })).status, 403, 'no session')
  t.equal((await fetchEvents(y.port, { authors: [a.pubkey] })).length, 3, 'nothing was blocked by those')

  // block A
  const blocked = await admin.post('/admin/block', { pubkey: aNpub, csrf: await admin.csrf() })
  t.equal(blocked.status, 303)
  t.match(textOf((await admin.get('/admin')).body), new RegExp(`Blocked ${aNpub}`), 'flash message')
  t.same(await fetchEvents(y.port, { authors: [a.pubkey] }), [], 'A\'s events gone from REQ by author')
  t.same(await fetchEvents(y.port, { ids: [a1.id, ax1.id] }), [], 'and by id')
  t.same(ids(await fetchEvents(y.port, { kinds: [1] })), ids([b1, b2]), 'and from the timeline')
  t.same(ids(await fetchEvents(y.port, { kinds: [1], limit: 2 })), ids([b1, b2]), 'a limit counts shown events only (A\'s newer post does not take a place)')
  const refused = await publish(y.port, a.sign({ content: 'still here?' }))
  t.equal(refused.ok, false)
  t.match(refused.message, /^blocked: /, `publishing from A: ${refused.message}`)

  // A's posts written at X still reach Y, are carried on to Z, but Y never shows them
  const ax2 = a.sign({ content: 'spam via X after the block' })
  t.same(await publish(x.port, ax2), { ok: true, message: '' })
  await until(async () => (await fetchEvents(z.port, { ids: [ax2.id] })).length === 1, 20_000, 'X -> Y -> Z')
  t.pass('Y stored A\'s post from X and carried it on to Z')
  const b3 = b.sign({ content: 'after the block' })
  t.same(await publish(y.port, b3), { ok: true, message: '' })
  await until(() => live.events.some(e => e.id === b3.id), 10_000, 'B\'s new post live')
  t.same(live.events.filter(e => e.pubkey === a.pubkey), [], 'the live subscription delivered none of A\'s new events')
  t.same(await fetchEvents(y.port, { ids: [ax2.id] }), [])
  t.same((await fetchEvents(x.port, { ids: [ax2.id] })).length, 1, 'X (its own site) still shows it')

  // hide one of B's posts by its nevent
  const hide = await admin.post('/admin/hide', { event: neventEncode({ id: b1.id, relays: ['ws://10.42.0.1/'] }), csrf: await admin.csrf() })
  t.equal(hide.status, 303)
  t.same(await fetchEvents(y.port, { ids: [b1.id] }), [], 'hidden event gone from REQ')
  t.same(ids(await fetchEvents(y.port, { authors: [b.pubkey] })), ids([b2, b3]))
  const page = await admin.get('/admin')
  t.match(textOf(page.body), /hello <b>campsite<\/b>/, 'the hidden post is listed with its text')
  t.notMatch(page.body, /<b>campsite/, 'as text, never HTML')
  t.match(textOf(page.body), /Blocked keys \(1\)/)
  t.match(textOf(page.body), /Hidden events \(1\)/)
  const sid = /session ([0-9a-f]{12})/.exec(page.body)?.[1] as string
  t.match(textOf(page.body), new RegExp(`block ${aNpub} ${sid}`), 'the moderation log lists the action and the session')
  const blockLine = new RegExp(`"action":"block","target":"${a.pubkey}","changed":true,"session":"${sid}"`)
  t.match(await y.waitForOutput(blockLine), blockLine, 'logged with the operator\'s session')

  // a restart keeps the policy (and ends the session)
  y.proc.kill('SIGTERM')
  t.equal(await y.exited, 0)
  y = await spawnNode(t, yArgs)
  t.same(ids(await fetchEvents(y.port, { kinds: [1] })), ids([b2, b3]), 'after a restart: still blocked and hidden')
  t.match((await publish(y.port, a.sign({ content: 'after restart' }))).message, /^blocked: /)
  const again = new AdminClient(y.port)
  again.cookies.set('outpost_admin', admin.cookies.get('outpost_admin') as string)
  t.match((await again.get('/admin')).body, /Log in/, 'sessions do not survive a restart')
  t.equal((await again.login(PASSWORD)).status, 303)

  // unblock and unhide: everything is back
  t.equal((await again.post('/admin/unblock', { pubkey: a.pubkey, csrf: await again.csrf() })).status, 303)
  t.equal((await again.post('/admin/unhide', { event: b1.id, csrf: await again.csrf() })).status, 303)
  await until(async () => (await fetchEvents(y.port, { ids: [ax2.id] })).length === 1, 20_000, 'Y has synced again')
  t.same(ids(await fetchEvents(y.port, { kinds: [1] })), ids([a1, a2, ax1, ax2, b1, b2, b3]), 'every event shown again')
  t.match(textOf((await again.get('/admin')).body), /Blocked keys \(0\).*Hidden events \(0\)/)
})

t.test('hostile input: clear errors, escaped echoes, the node keeps running', async t => {
  const dir = await tempDir('hostile')
  const node = await spawnNode(t, ['--data', path.join(dir, 'data'), '--admin-password-file', writePasswordFile(dir, PASSWORD)])
  const c = new AdminClient(node.port)
  t.equal((await c.login(PASSWORD)).status, 303)
  const csrf = await c.csrf()

  const huge = await c.send('POST', '/admin/block', `csrf=${csrf}&pubkey=${'a'.repeat(200_000)}`, { 'Content-Type': 'application/x-www-form-urlencoded' })
  t.equal(huge.status, 413, 'a 200 kB form: 413')
  t.match(textOf(huge.body), /at most 8192 bytes/)
  // the same without a length up front (chunked)
  const bigChunked = await new Promise<number>((resolve, reject) => {
    import('node:http').then(({ request }) => {
      const req = request({ host: '127.0.0.1', port: node.port, method: 'POST', path: '/admin/hide', headers: { Cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'Content-Type': 'application/x-www-form-urlencoded' } }, res => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      for (let i = 0; i < 40; i++) req.write(`csrf=${csrf}&event=${'b'.repeat(1000)}&`)
      req.end()
    }, reject)
  })
  t.equal(bigChunked, 413, 'a 40 kB chunked form: 413')

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['/admin/block', { pubkey: 'npub1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' }, /not a public key .*: its checksum or length is wrong/],
    ['/admin/block', { pubkey: 'not a key at all' }, /That is not a public key/],
    ['/admin/block', { pubkey: '' }, /Enter a public key/],
    ['/admin/block', { pubkey: nsecEncode(generateSecretKey()) }, /secret key \(nsec\)/],
    ['/admin/hide', { event: naddrEncode({ kind: 30023, pubkey: 'a'.repeat(64), identifier: 'x' }) }, /An naddr names a replaceable event/],
    ['/admin/hide', { event: '<script>alert(1)</script>' }, /That is not an event id/],
    ['/admin/hide', { event: 'x'.repeat(1500) }, /too long/]
  ]
  for (const [route, fields, message] of cases) {
    const r = await c.post(route, { ...fields, csrf })
    t.equal(r.status, 400, `${route} ${Object.values(fields)[0]?.slice(0, 30) ?? ''}: 400`)
    t.match(textOf(r.body), message)
    t.notMatch(r.body, /<script>alert/, 'never echoed as HTML')
  }
  const echoed = await c.post('/admin/hide', { event: '"><script>alert(1)</script>', csrf })
  t.match(echoed.body, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/, 'what was typed goes back into the field, escaped')

  t.equal((await c.send('POST', '/admin/block', JSON.stringify({ pubkey: 'a'.repeat(64) }), { 'Content-Type': 'application/json' })).status, 415, 'JSON body: 415')
  t.equal((await c.send('PUT', '/admin')).status, 405)
  t.equal((await c.get('/admin/block')).status, 303, 'GET of an action only goes back to /admin')
  t.equal((await c.get('/admin/../etc/passwd')).status, 404)
  t.equal((await c.get('/admin/nothing')).status, 404)
  t.equal((await c.post('/admin/block', { pubkey: 'a'.repeat(64), csrf })).status, 303, 'a valid request still works')
  t.equal((await fetch(`http://127.0.0.1:${node.port}/api/health`)).status, 200, 'the node is fine')
  t.equal(node.proc.exitCode, null)
})
