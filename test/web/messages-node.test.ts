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

/** A live subscription over a plain WebSocket: resolves with the first event after EOSE. */
async function nextLive (base: string, filter: object, after: () => Promise<void>): Promise<NostrEvent> {
  const ws = new WebSocket(base.replace(/^http/, 'ws'))
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.close(); reject(new Error('no live event')) }, 20000)
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'live', filter])))
    let eosed = false
    ws.on('message', d => {
      const m = JSON.parse(d.toString()) as unknown[]
      if (m[0] === 'EOSE') { eosed = true; after().catch(reject) }
      if (m[0] === 'EVENT' && eosed) { clearTimeout(timer); ws.close(); resolve(m[2] as NostrEvent) }
    })
    ws.on('error', err => { clearTimeout(timer); reject(err) })
  })
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
  const wrapAt = (createdAt: number): NostrEvent => {
    const throwaway = generateSecretKey()
    return signEvent({ kind: 1059, created_at: createdAt, tags: [['p', bobPub]], content: encrypt(JSON.stringify(sealed), getConversationKey(throwaway, bobPub)) }, throwaway)
  }
  const oldest = wrapAt(now - TWO_DAYS)
  const newest = wrapAt(now)
  await relayPublish(base, [oldest, newest])
  const forBob = await relayQuery(base, { kinds: [1059], '#p': [bobPub], limit: 500 })
  t.equal(forBob.length, 12, 'every wrap for Bob, whatever its date')
  t.equal(forBob.filter(w => openWrap(w, bob) !== null).length, 12, 'and Bob opens each one')
  t.same(sent.map(s => openWrap(s.wraps[0]!, bob)?.content), sent.map((_, i) => 'message ' + String(i)))
  const page = await relayQuery(base, { kinds: [1059], '#p': [bobPub], until: now - 3600, limit: 500 })
  t.ok(page.every(w => w.created_at <= now - 3600), 'paging back with until works on wrap dates')

  // a wrap dated two days back still reaches a live subscriber (no `since` window on live events)
  const late = wrapAt(now - TWO_DAYS + 5)
  const got = await nextLive(base, { kinds: [1059], '#p': [bobPub], limit: 5 }, async () => { await relayPublish(base, [late]) })
  t.equal(got.id, late.id)

  // the longest message the client lets anyone write fits the node's default limits
  const longest = wrapMessage(alice, bobPub, '😀'.repeat(MAX_MESSAGE / 2), now, now)
  await relayPublish(base, longest.wraps)
  t.equal((await relayQuery(base, { ids: longest.wraps.map(w => w.id) })).length, 2, 'the largest wraps are accepted')
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
  const [wrap] = await relayQuery(base, { kinds: [1059], '#p': [me] })
  t.ok(wrap !== undefined && wrap.created_at <= nowS() + 5, 'the wrap is not dated in the future')
  const rumor = wrap !== undefined ? openWrap(wrap, sk) : null
  t.equal(rumor?.content, 'remember the torch')
  t.ok(rumor !== null && Math.abs(rumor.created_at - nowS()) < 120, 'the message carries the node\'s time, not the phone\'s')
  t.same(P.problems, [])
})
