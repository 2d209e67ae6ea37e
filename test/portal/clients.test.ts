import t from 'tap'
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PortalClients } from '../../node/src/portal/clients.js'
import { CLIENTS_FILE } from '../../node/src/portal/portal.js'
import { spawnNode } from '../helpers/node-process.js'
import { testLogger } from '../helpers/log.js'
import { continueFrom, send, tempDir } from './portal-helpers.js'

const ANDROID = { host: 'connectivitycheck.gstatic.com', path: '/generate_204' }
const APPLE = { host: 'captive.apple.com', path: '/hotspot-detect.html', ua: 'CaptiveNetworkSupport-481.100.2 wispr' }

t.test('accepted phones survive a SIGKILL of the node (power-cut style restart)', async t => {
  const data = await tempDir(t)
  const a = await spawnNode(t, ['--data', data])
  t.equal((await send(a.port, { ...ANDROID, from: '127.0.0.9' })).status, 302)
  t.equal((await continueFrom(a.port, '127.0.0.9')).status, 303)
  t.equal((await send(a.port, { ...ANDROID, from: '127.0.0.9' })).status, 204)
  a.proc.kill('SIGKILL')
  await a.exited

  const file = path.join(data, CLIENTS_FILE)
  const saved = JSON.parse(await readFile(file, 'utf8'))
  t.equal(saved.v, 1)
  t.same(saved.clients.map((c: [string, number]) => c[0]), ['ip:127.0.0.9'])
  t.equal((await stat(file)).mode & 0o777, 0o600, 'only the node reads it')
  t.same((await readdir(data)).filter(f => f.includes('.tmp')), [], 'no temp file left')

  const b = await spawnNode(t, ['--data', data])
  t.equal((await send(b.port, { ...ANDROID, from: '127.0.0.9' })).status, 204, 'still online after the restart')
  t.equal((await send(b.port, { ...APPLE, from: '127.0.0.9' })).status, 200)
  t.equal((await send(b.port, { ...ANDROID, from: '127.0.0.10' })).status, 302, 'others still captive')
})

t.test('acceptance expires after portal.clientTtl, also across a restart', async t => {
  const data = await tempDir(t)
  const a = await spawnNode(t, ['--data', data, '--portal-client-ttl', '1'])
  await continueFrom(a.port, '127.0.0.11')
  const accepted = Date.now()
  t.equal((await send(a.port, { ...ANDROID, from: '127.0.0.11' })).status, 204)
  const api = JSON.parse((await send(a.port, { path: '/api/captive', from: '127.0.0.11' })).body)
  t.ok(api['seconds-remaining'] <= 1, 'seconds-remaining follows the TTL')
  await new Promise(resolve => setTimeout(resolve, Math.max(0, accepted + 1200 - Date.now())))
  t.equal((await send(a.port, { ...ANDROID, from: '127.0.0.11' })).status, 302, 'captive again once expired')
  t.equal(JSON.parse((await send(a.port, { path: '/api/captive', from: '127.0.0.11' })).body).captive, true)
  a.proc.kill('SIGTERM')
  t.equal(await a.exited, 0)

  const b = await spawnNode(t, ['--data', data, '--portal-client-ttl', '1'])
  t.equal((await send(b.port, { ...ANDROID, from: '127.0.0.11' })).status, 302, 'an expired entry is not revived by a restart')
  // Continue again renews
  await continueFrom(b.port, '127.0.0.11')
  t.equal((await send(b.port, { ...ANDROID, from: '127.0.0.11' })).status, 204)
})

t.test('a damaged client file is set aside with a warning; the node serves', async t => {
  const data = await tempDir(t)
  await writeFile(path.join(data, CLIENTS_FILE), '{"v":1,"clients":[["ip:127.0.0.12", 9')
  await writeFile(path.join(data, `${CLIENTS_FILE}.tmp-12345`), '{"v":1,"cli')
  const a = await spawnNode(t, ['--data', data])
  t.equal((await send(a.port, { ...ANDROID, from: '127.0.0.12' })).status, 302)
  t.match(await a.waitForOutput('portal client file unreadable'), 'portal client file unreadable')
  t.ok((await readdir(data)).some(f => f.startsWith(`${CLIENTS_FILE}.corrupt-`)), 'kept for inspection')
  t.notOk((await readdir(data)).includes(`${CLIENTS_FILE}.tmp-12345`), 'a half-written temp file is removed')
  await continueFrom(a.port, '127.0.0.12')
  t.equal((await send(a.port, { ...ANDROID, from: '127.0.0.12' })).status, 204)
})

t.test('the client list is bounded: the entries closest to expiry go first', async t => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'clients.json')
  let now = 1_000_000
  const c = new PortalClients({ file, ttlMs: 1000, maxClients: 3, log: testLogger(), now: () => now })
  await c.open()
  for (const k of ['a', 'b', 'c', 'd', 'e']) {
    await c.accept(`ip:${k}`)
    now += 10
  }
  t.equal(c.size, 3)
  t.equal(c.expiresAt(['ip:a']), null)
  t.equal(c.expiresAt(['ip:b']), null)
  t.equal(c.expiresAt(['ip:e']), 1_000_040 + 1000)
  // a renewed client moves to the back
  await c.accept('ip:c')
  now += 10
  await c.accept('ip:f')
  t.equal(c.expiresAt(['ip:d']), null, 'd was closest to expiry')
  t.ok(c.expiresAt(['ip:c']) !== null)

  // concurrent accepts coalesce into few writes and all land on disk
  await Promise.all(['g', 'h', 'i'].map(async k => await c.accept(`mac:${k}`)))
  const reopened = new PortalClients({ file, ttlMs: 1000, maxClients: 3, log: testLogger(), now: () => now })
  await reopened.open()
  t.equal(reopened.size, 3)
  t.ok(reopened.expiresAt(['mac:i']) !== null)
  // time passes: everything expires, and a reopen drops it
  now += 5000
  const later = new PortalClients({ file, ttlMs: 1000, log: testLogger(), now: () => now })
  await later.open()
  t.equal(later.size, 0)
})
