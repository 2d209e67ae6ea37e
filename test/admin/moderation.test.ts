import t, { type Test } from 'tap'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { neventEncode, noteEncode, nprofileEncode, npubEncode } from 'nostr-tools/nip19'
import { createStore, testLimits } from '../helpers/store.js'
import { testLogger } from '../helpers/log.js'
import { signer } from '../helpers/events.js'
import { fetchEvents } from '../sync/ws-client.js'
import { RelayServer } from '../../node/src/relay/relay-server.js'
import { createHttpApp, createHttpServer, listen, closeHttpServer } from '../../node/src/http/app.js'
import { mirror } from '../../node/src/mirror/mirror.js'
import { Moderation, MODERATION_FILE, parseEventRef, parsePubkeyRef } from '../../node/src/admin/moderation.js'
import { ModeratedStore } from '../../node/src/admin/moderated-store.js'
import type { Store } from '../../node/src/store/store.js'

const OP = { session: 'test-session', ip: '127.0.0.1' }

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-moderation-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A relay-role front: the relay (REQ) and the mirror over one moderated view of a real store. */
async function relayFront (t: Test, store: Store, moderation: Moderation, maxLimit: number): Promise<number> {
  const limits = testLimits({ maxLimit, defaultLimit: maxLimit })
  const shown = new ModeratedStore(store, moderation, limits)
  const relay = new RelayServer({ store: shown, limits, log: testLogger() })
  const app = createHttpApp({ log: testLogger(), nip11: () => ({}), health: () => ({ ok: true }), staticDir: '/nonexistent', mirror: mirror({ store: shown, name: 'Relay', maxLimit }) })
  const server = createHttpServer(app, relay)
  const { port } = await listen(server, '127.0.0.1', 0)
  t.teardown(async () => { await relay.close(); await closeHttpServer(server) })
  return port
}

async function page (port: number, route: string): Promise<{ status: number, body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`)
  return { status: res.status, body: await res.text() }
}

t.test('the mirror and REQ of a relay-role front: blocked and hidden events vanish, a limit is filled from further back', async t => {
  const limits = testLimits({ maxLimit: 20, defaultLimit: 20 })
  const store = await createStore(t, { limits })
  const moderation = await Moderation.open({ dataDir: await tempDir(t), log: testLogger() })
  const port = await relayFront(t, store, moderation, 20)
  const spammer = signer()
  const b = signer()
  const t0 = Math.floor(Date.now() / 1000) - 1000
  const good = Array.from({ length: 5 }, (_, i) => b.sign({ content: `good post ${i}`, created_at: t0 + i }))
  // 45 newer posts of the spammer: more than two full store queries at maxLimit 20
  const spam = Array.from({ length: 45 }, (_, i) => spammer.sign({ content: `SPAM ${i}`, created_at: t0 + 10 + Math.floor(i / 3) }))
  for (const e of [...good, ...spam, b.sign({ kind: 0, content: '{"name":"Bee"}', created_at: t0 }), spammer.sign({ kind: 0, content: '{"name":"Spammer"}', created_at: t0 })]) {
    t.equal((await store.ingest(e, { type: 'client' })).ok, true)
  }
  t.match((await page(port, '/')).body, /SPAM 44/, 'before: the mirror shows the spam')

  await moderation.apply('block', spammer.pubkey, OP)
  const home = await page(port, '/')
  t.notMatch(home.body, /SPAM/, 'the mirror\'s newest posts: no spam')
  t.notMatch(home.body, /Spammer/)
  for (let i = 0; i < 5; i++) t.match(home.body, `good post ${i}`)
  t.match((await page(port, `/p/${spammer.pubkey}`)).body, /No posts here yet/, 'the author page is empty')
  t.equal((await page(port, `/e/${spam[0]?.id ?? ''}`)).status, 404, 'a spam post\'s page is 404')

  // the store alone would fill a page of 3 with spam; the moderated view goes further back
  t.same((await store.query([{ kinds: [1], limit: 3 }])).map(e => e.pubkey), [spammer.pubkey, spammer.pubkey, spammer.pubkey], 'control: the store\'s newest 3 are spam')
  t.same((await fetchEvents(port, { kinds: [1], limit: 3 })).map(e => e.content), ['good post 4', 'good post 3', 'good post 2'], 'REQ limit 3: three shown posts, found behind 45 blocked ones')
  t.same((await fetchEvents(port, { kinds: [1] })).length, 5, 'no limit (default 20): every shown post')
  t.same(await fetchEvents(port, { kinds: [1], until: t0 + 30 }), (await fetchEvents(port, { kinds: [1] })), 'until inside the spam: same answer')

  await moderation.apply('hide', good[2]?.id ?? '', OP)
  t.notMatch((await page(port, '/')).body, /good post 2/, 'a hidden post leaves the mirror')
  t.equal((await page(port, `/e/${good[2]?.id ?? ''}`)).status, 404)
  t.same((await fetchEvents(port, { kinds: [1], limit: 3 })).map(e => e.content), ['good post 4', 'good post 3', 'good post 1'])
  t.same(await fetchEvents(port, { ids: [good[2]?.id ?? ''] }), [])

  await moderation.apply('unblock', spammer.pubkey, OP)
  await moderation.apply('unhide', good[2]?.id ?? '', OP)
  t.equal((await fetchEvents(port, { kinds: [1] })).length, 20, 'unblocked and unhidden: all back (up to the limit)')
  t.match((await page(port, '/')).body, /SPAM 44/)
})

t.test('the policy is durable: one file, written atomically, read back; a damaged file is moved aside and said so', async t => {
  const dir = await tempDir(t)
  const m = await Moderation.open({ dataDir: dir, log: testLogger() })
  t.equal(m.empty, true)
  const key = 'ab'.repeat(32)
  const id = 'cd'.repeat(32)
  t.same(await m.apply('block', key, OP), { changed: true })
  t.same(await m.apply('block', key, OP), { changed: false }, 'twice: no change')
  t.same(await m.apply('hide', id, OP), { changed: true })
  t.same(await m.apply('unhide', 'ef'.repeat(32), OP), { changed: false })
  await t.rejects(m.apply('block', 'not hex', OP), /64-hex/)
  t.same((await readdir(dir)).sort(), [MODERATION_FILE], 'no temp file left')

  const again = await Moderation.open({ dataDir: dir, log: testLogger() })
  t.equal(again.isBlocked(key), true)
  t.equal(again.isHidden(id), true)
  t.same(again.recentActions().map(a => [a.action, a.target, a.session]), [['unhide', 'ef'.repeat(32), 'test-session'], ['hide', id, 'test-session'], ['block', key, 'test-session'], ['block', key, 'test-session']])

  await writeFile(path.join(dir, MODERATION_FILE), '{"version":1,"blocked":')
  const damaged = await Moderation.open({ dataDir: dir, log: testLogger() })
  t.equal(damaged.empty, true)
  t.match(damaged.damaged, /could not be read .* moved to .*corrupt/)
  t.ok((await readdir(dir)).some(f => f.startsWith(`${MODERATION_FILE}.corrupt-`)), 'moved aside, not deleted')
  await damaged.apply('block', key, OP)
  t.match(JSON.parse(await readFile(path.join(dir, MODERATION_FILE), 'utf8')), { version: 1, blocked: { [key]: { session: 'test-session' } } })
})

t.test('key and event references the form accepts', async t => {
  const pk = 'f'.repeat(63) + 'e'
  const id = '0'.repeat(63) + '1'
  for (const v of [pk, pk.toUpperCase(), ` ${pk} `, npubEncode(pk), `nostr:${npubEncode(pk)}`, nprofileEncode({ pubkey: pk, relays: ['ws://x'] }), `http://10.42.0.1/p/${pk}`, `http://10.42.0.1/#/p/${pk}`]) {
    t.same(parsePubkeyRef(v), { ok: true, hex: pk }, v.slice(0, 40))
  }
  for (const v of [id, noteEncode(id), `nostr:${neventEncode({ id })}`, neventEncode({ id, relays: ['ws://10.42.0.1'], author: pk }), `http://relay.local/e/${id}/`]) {
    t.same(parseEventRef(v), { ok: true, hex: id }, v.slice(0, 40))
  }
  t.match(parsePubkeyRef(noteEncode(id)), { ok: false }, 'a note is not a key')
  t.match(parseEventRef(npubEncode(pk)), { ok: false }, 'an npub is not an event')
  t.match(parsePubkeyRef(pk.slice(1)), { ok: false }, '63 hex')
  t.match(parsePubkeyRef(npubEncode(pk).slice(0, -1) + 'q'), { ok: false, error: /checksum/ })
  t.match(parsePubkeyRef('\u0000<img src=x>'), { ok: false })
})
