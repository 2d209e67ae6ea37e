import t from 'tap'
import WebSocket from 'ws'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { encrypt, getConversationKey } from 'nostr-tools/nip44'
import type { NostrEvent } from '../../node/src/events/types.js'
import { MAX_MESSAGE } from '../../captive-portal/src/lib/dm.js'
import { TWO_DAYS, chatRumor, openWrap, seal, wrapMessage } from '../../captive-portal/src/lib/dm-crypto.js'
import { signEvent } from '../../captive-portal/src/lib/keys.js'
import { WAIT, createIdentity, launchBrowser, phone, relayPublish, relayQuery, startNode } from '../helpers/browser.js'

const nowS = (): number => Math.floor(Date.now() / 1000)

/** A raw relay connection: every message kept in order, taken by predicate. */
async function connect (base: string): Promise<{ ws: WebSocket, send: (...m: unknown[]) => void, next: (pred: (m: unknown[]) => boolean) => Promise<unknown[]>, seen: unknown[][] }> {
  const ws = new WebSocket(base.replace(/^http/, 'ws'))
  const seen: unknown[][] = []
  const waiting: Array<() => void> = []
  ws.on('message', d => { seen.push(JSON.parse(d.toString()) as unknown[]); for (const w of waiting.splice(0)) w() })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const next = async (pred: (m: unknown[]) => boolean): Promise<unknown[]> => {
    const deadline = Date.now() + 10000
    for (;;) {
      const i = seen.findIndex(pred)
      if (i >= 0) return seen.splice(i, 1)[0] as unknown[]
      if (Date.now() > deadline) throw new Error('no such message')
      await new Promise<void>(resolve => { waiting.push(resolve); setTimeout(resolve, 200) })
    }
  }
  return { ws, send: (...m) => ws.send(JSON.stringify(m)), next, seen }
}

function authEvent (sk: Uint8Array, challenge: string, relay: string, createdAt = nowS()): NostrEvent {
  return signEvent({ kind: 22242, created_at: createdAt, tags: [['relay', relay], ['challenge', challenge]], content: '' }, sk)
}

/** Asks for gift wraps, gets the challenge and CLOSED auth-required, authenticates as `keys`. */
async function authenticate (c: Awaited<ReturnType<typeof connect>>, base: string, keys: Uint8Array[]): Promise<string> {
  c.send('REQ', 'probe', { kinds: [1059] })
  const [, challenge] = await c.next(m => m[0] === 'AUTH')
  const closed = await c.next(m => m[0] === 'CLOSED')
  if (!String(closed[2]).startsWith('auth-required:')) throw new Error('expected auth-required')
  for (const sk of keys) {
    const ev = authEvent(sk, challenge as string, base.replace(/^http/, 'ws'))
    c.send('AUTH', ev)
    const ok = await c.next(m => m[0] === 'OK' && m[1] === ev.id)
    if (ok[2] !== true) throw new Error(`AUTH refused: ${String(ok[3])}`)
  }
  return challenge as string
}

t.test('the node takes NIP-59 gift wraps dated up to two days back, serves them by #p, live as well', async t => {
  const { base } = await startNode(t)
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const bobPub = getPublicKey(bob)
  const now = nowS()
  // what the client sends: many wraps, each with its own random date
  const sent = Array.from({ length: 10 }, (_, i) => wrapMessage(alice, bobPub, 'message ' + String(i), now, now))
  const wraps = sent.flatMap(s => s.wraps)
  await relayPublish(base, wraps)
  // the extremes NIP-59 allows: exactly two days back, and now
  const sealed = seal(chatRumor(alice, bobPub, 'edge', now), alice, bobPub, now)
  const wrapAt = (createdAt: number, extra: string[][] = []): NostrEvent => {
    const throwaway = generateSecretKey()
    return signEvent({ kind: 1059, created_at: createdAt, tags: [['p', bobPub], ...extra], content: encrypt(JSON.stringify(sealed), getConversationKey(throwaway, bobPub)) }, throwaway)
  }
  const oldest = wrapAt(now - TWO_DAYS)
  const newest = wrapAt(now)
  await relayPublish(base, [oldest, newest])
  const forBob = await relayQuery(base, { kinds: [1059], '#p': [bobPub], limit: 500 }, { auth: [bob] })
  t.equal(forBob.length, 12, 'every wrap for Bob, whatever its date')
  t.equal(forBob.filter(w => openWrap(w, bob) !== null).length, 12, 'and Bob opens each one')
  t.same(sent.map(s => openWrap(s.wraps[0]!, bob)?.content), sent.map((_, i) => 'message ' + String(i)))
  const page = await relayQuery(base, { kinds: [1059], '#p': [bobPub], until: now - 3600, limit: 500 }, { auth: [bob] })
  t.ok(page.every(w => w.created_at <= now - 3600), 'paging back with until works on wrap dates')

  // NIP-40 on wraps (disappearing messages): the expiration counts, the random date does not
  const expiring = wrapAt(now - TWO_DAYS + 60, [['expiration', String(now + 3600)]])
  const expired = wrapAt(now - 60, [['expiration', String(now - 30)]])
  await relayPublish(base, [expiring])
  const c0 = await connect(base)
  c0.send('EVENT', expired)
  await c0.next(m => m[0] === 'OK' && m[1] === expired.id)
  c0.ws.close()
  const withExpiry = await relayQuery(base, { ids: [expiring.id, expired.id] }, { auth: [bob] })
  t.same(withExpiry.map(w => w.id), [expiring.id], 'a wrap dated two days back that expires in an hour is served; an expired one is not')

  // a wrap dated two days back still reaches a live subscriber (no `since` window on live events)
  const late = wrapAt(now - TWO_DAYS + 5)
  const c = await connect(base)
  t.teardown(() => c.ws.close())
  await authenticate(c, base, [bob])
  c.send('REQ', 'live', { kinds: [1059], '#p': [bobPub], limit: 5 })
  await c.next(m => m[0] === 'EOSE' && m[1] === 'live')
  c.seen.splice(0)
  await relayPublish(base, [late])
  const got = await c.next(m => m[0] === 'EVENT' && m[1] === 'live')
  t.equal((got[2] as NostrEvent).id, late.id)

  // the longest message the client lets anyone write fits the node's default limits
  const longest = wrapMessage(alice, bobPub, '😀'.repeat(MAX_MESSAGE / 2), now, now)
  await relayPublish(base, longest.wraps)
  t.equal((await relayQuery(base, { ids: longest.wraps.map(w => w.id) }, { auth: [alice, bob] })).length, 2, 'the largest wraps are accepted')
})

t.test('a phone with its clock days ahead still sends messages the node accepts, dated by the node\'s clock', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const P = await phone(browser)
  // three days ahead: wraps dated "up to two days back" from the phone's clock would all be in the future
  await P.page.clock.install({ time: Date.now() + 3 * 24 * 3600 * 1000 })
  await createIdentity(P.page, base, { name: 'Late Clock' })
  const me = await P.page.evaluate('localStorage.getItem("outpost.pk")') as string
  const sk = Buffer.from(await P.page.evaluate('localStorage.getItem("outpost.sk")') as string, 'hex')
  // a note to self: the conversation with one's own key
  await P.page.goto(base + '#/dm/' + me)
  await P.page.getByLabel('Your message').fill('remember the torch')
  await P.page.getByRole('button', { name: 'Send', exact: true }).click()
  await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  t.equal(await P.page.getByRole('alert').filter({ hasText: 'Not accepted' }).count(), 0, 'nothing refused')
  const [wrap] = await relayQuery(base, { kinds: [1059], '#p': [me] }, { auth: [sk] })
  t.ok(wrap !== undefined && wrap.created_at <= nowS() + 5, 'the wrap is not dated in the future')
  const rumor = wrap !== undefined ? openWrap(wrap, sk) : null
  t.equal(rumor?.content, 'remember the torch')
  t.ok(rumor !== null && Math.abs(rumor.created_at - nowS()) < 120, 'the message carries the node\'s time, not the phone\'s')
  t.same(P.problems, [])
})

t.test('NIP-42: the node serves a gift wrap only to a connection that proved it holds the recipient\'s key', async t => {
  const { base } = await startNode(t)
  const relay = base.replace(/^http/, 'ws')
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const alicePub = getPublicKey(alice)
  const bobPub = getPublicKey(bob)
  const now = nowS()
  // Bob's copy and Alice's own copy
  const toBob = wrapMessage(alice, bobPub, 'for Bob', now, now).wraps
  const note = signEvent({ kind: 1, created_at: now, tags: [], content: 'public' }, alice)
  await relayPublish(base, [...toBob, note])

  // a stranger: public events as before; gift wraps left out, asking for them by kind needs AUTH
  t.same((await relayQuery(base, {})).map(e => e.kind), [1], 'no wraps in an open query')
  t.same((await relayQuery(base, { ids: toBob.map(w => w.id) })), [], 'not even by id')
  await t.rejects(relayQuery(base, { kinds: [1059], '#p': [bobPub] }), /auth-required:/)

  // refused AUTH events
  const c = await connect(base)
  t.teardown(() => c.ws.close())
  const early = authEvent(bob, 'x', relay)
  c.send('AUTH', early)
  t.match((await c.next(m => m[0] === 'OK' && m[1] === early.id))[3], /no challenge/, 'AUTH before any challenge')
  c.send('REQ', 'w', { kinds: [1059] })
  const [, challenge] = await c.next(m => m[0] === 'AUTH') as [string, string]
  t.match((await c.next(m => m[0] === 'CLOSED'))[2], /^auth-required:/)
  const refused = async (ev: NostrEvent): Promise<string> => {
    c.send('AUTH', ev)
    const ok = await c.next(m => m[0] === 'OK' && m[1] === ev.id)
    t.equal(ok[2], false)
    return String(ok[3])
  }
  t.match(await refused(authEvent(bob, 'f'.repeat(32), relay)), /challenge/, 'another challenge')
  t.match(await refused(authEvent(bob, challenge, 'ws://elsewhere.example/')), /another relay/, 'another relay')
  t.match(await refused(authEvent(bob, challenge, relay, now - 3600)), /too far from now/, 'an old AUTH event')
  t.match(await refused({ ...authEvent(bob, challenge, relay), sig: authEvent(alice, challenge, relay).sig }), /signature/, 'a bad signature')
  t.match(await refused(signEvent({ kind: 1, created_at: now, tags: [['relay', relay], ['challenge', challenge]], content: '' }, bob)), /22242/, 'another kind')
  c.send('REQ', 'w2', { kinds: [1059] })
  await c.next(m => m[0] === 'CLOSED' && m[1] === 'w2')

  // Alice authenticates on this connection: her own copy only, Bob's stays hidden, live too
  const ev = authEvent(alice, challenge, relay)
  c.send('AUTH', ev)
  t.same(await c.next(m => m[0] === 'OK' && m[1] === ev.id), ['OK', ev.id, true, ''])
  c.send('REQ', 'a', { kinds: [1059] })
  t.equal(((await c.next(m => m[1] === 'a'))[2] as NostrEvent).id, toBob[1]?.id, 'Alice gets her own copy')
  t.same(await c.next(m => m[1] === 'a'), ['EOSE', 'a'], 'and not Bob\'s')
  c.send('REQ', 'ab', { kinds: [1059], '#p': [bobPub] })
  t.match((await c.next(m => m[0] === 'CLOSED' && m[1] === 'ab'))[2], /^auth-required:/, 'asking for another key\'s wraps needs that key\'s AUTH')
  const b = await connect(base)
  t.teardown(() => b.ws.close())
  await authenticate(b, base, [bob])
  b.send('REQ', 'b', { kinds: [1059], '#p': [bobPub] }, { kinds: [1] })
  await b.next(m => m[0] === 'EOSE' && m[1] === 'b')
  t.same(b.seen.filter(m => m[0] === 'EVENT').map(m => (m[2] as NostrEvent).id).sort(), [toBob[0]?.id, note.id].sort(), 'Bob gets his copy (and public posts)')
  b.seen.splice(0)
  const reply = wrapMessage(bob, alicePub, 'for Alice', now, now).wraps
  await relayPublish(base, reply)
  const live = await c.next(m => m[0] === 'EVENT' && m[1] === 'a')
  t.equal((live[2] as NostrEvent).id, reply[0]?.id, 'Alice gets her copy live')
  t.equal(openWrap(live[2] as NostrEvent, alice)?.content, 'for Alice')
  const bLive = await b.next(m => m[0] === 'EVENT' && m[1] === 'b')
  t.equal((bLive[2] as NostrEvent).id, reply[1]?.id, 'Bob gets his own copy of his reply, not Alice\'s')
  await new Promise(resolve => setTimeout(resolve, 300))
  t.same(b.seen.filter(m => m[0] === 'EVENT').length, 0, 'nothing else')
})
