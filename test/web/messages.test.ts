import t from 'tap'
import type { Page, WebSocketRoute } from 'playwright-core'
import type { NostrEvent } from '../../node/src/events/types.js'
import { generateSecretKey } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import { WAIT, createIdentity, launchBrowser, phone, relayPublish, relayQuery, screenshot, startNode } from '../helpers/browser.js'
import { chatRumor, giftWrap, seal } from '../../captive-portal/src/lib/dm-crypto.js'

/** Opens a person's profile through People (search by tag) and taps Message. */
async function messageFromPeople (page: Page, tag: string, name: string): Promise<void> {
  await page.locator('.tabs').getByRole('link', { name: 'People', exact: true }).click()
  await page.getByLabel('Find people by name or #tag').fill('#' + tag)
  await page.getByRole('button', { name: 'Search' }).click()
  await page.locator('.person').getByRole('link', { name }).click()
  await page.getByRole('heading', { name }).waitFor(WAIT)
  await screenshot(page, 'dm-profile')
  await page.getByRole('link', { name: 'Message', exact: true }).click()
  await page.getByRole('heading', { name }).waitFor(WAIT)
}

async function send (page: Page, text: string): Promise<void> {
  await page.getByLabel('Your message').fill(text)
  await page.getByRole('button', { name: 'Send', exact: true }).click()
}

async function secretKey (page: Page): Promise<Uint8Array> {
  return Buffer.from(await page.evaluate('localStorage.getItem("outpost.sk")') as string, 'hex')
}

const bubbles = async (page: Page): Promise<string[]> => await page.locator('.bubble .content').allTextContents()

t.test('two phones write privately: unread marker, live reply, still there after a reload; the node only holds gift wraps', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const A = await phone(browser)
  const B = await phone(browser)
  await createIdentity(A.page, base, { name: 'Alice Camp', tags: '#camping' })
  await createIdentity(B.page, base, { name: 'Bob Tent', tags: '#music' })
  await B.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  const aPub = await A.page.evaluate('localStorage.getItem("outpost.pk")') as string
  const bPub = await B.page.evaluate('localStorage.getItem("outpost.pk")') as string
  const aSk = await secretKey(A.page)
  const bSk = await secretKey(B.page)

  // Alice finds Bob by his tag and writes to him
  await messageFromPeople(A.page, 'music', 'Bob Tent')
  t.match(A.page.url(), new RegExp('#/dm/' + bPub + '$'))
  await A.page.getByText('No messages with Bob Tent yet').waitFor(WAIT)
  const first = 'Hi Bob, the tea is ready at tent 12'
  await send(A.page, first)
  await A.page.locator('.bubble.mine').getByText(first).waitFor(WAIT)
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  await screenshot(A.page, 'dm-sent')

  // Bob, on another tab, sees the Messages tab light up, then the conversation marked unread
  await B.page.locator('.tabs').getByRole('link', { name: 'Here', exact: true }).click()
  await B.page.getByTestId('unread-tab').getByText('1').waitFor(WAIT)
  await B.page.locator('.tabs').getByRole('link', { name: /^Messages/ }).click()
  const row = B.page.locator('.conversation', { hasText: 'Alice Camp' })
  await row.getByTestId('unread').getByText('1 new').waitFor(WAIT)
  t.ok(await row.evaluate(el => el.classList.contains('unread')), 'the conversation is marked unread')
  t.match(await row.textContent(), /tea is ready/, 'with the last message as preview')
  await screenshot(B.page, 'dm-list-unread')
  await row.getByRole('link').click()
  await B.page.locator('.bubble.theirs').getByText(first).waitFor(WAIT)
  await B.page.getByTestId('unread-tab').waitFor({ state: 'detached', ...WAIT })

  // Bob replies; Alice, still in the conversation, sees it arrive
  const reply = 'Coming! Bringing biscuits'
  await send(B.page, reply)
  await B.page.locator('.bubble.mine').getByText(reply).waitFor(WAIT)
  await A.page.locator('.bubble.theirs').getByText(reply).waitFor(WAIT)
  t.same(await bubbles(A.page), [first, reply], 'Alice: oldest first')
  t.equal(await A.page.getByTestId('unread-tab').count(), 0, 'read while open: no unread marker')
  await screenshot(A.page, 'dm-conversation')
  await B.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })

  // after a reload both phones still have the thread (from the node, opened with their own key)
  await A.page.reload()
  await B.page.reload()
  for (const P of [A, B]) {
    await P.page.locator('.bubble').nth(1).waitFor(WAIT)
    t.same(await bubbles(P.page), [first, reply], 'the whole thread after a reload')
  }
  await B.page.locator('.tabs').getByRole('link', { name: /^Messages/ }).click()
  await B.page.locator('.conversation', { hasText: 'Alice Camp' }).waitFor(WAIT)
  t.equal(await B.page.getByTestId('unread').count(), 0, 'what was read stays read')
  t.match(await B.page.locator('.conversation').textContent(), /You: Coming!/)

  // Bob's phone switches to Alice's key (a restored backup): her own copies make her side of the
  // conversation readable, and the open connection authenticates again as the new key
  await B.page.locator('.tabs').getByRole('link', { name: 'Me', exact: true }).click()
  await B.page.getByRole('button', { name: 'Remove my key from this phone' }).click()
  await B.page.getByRole('button', { name: 'Remove it' }).click()
  t.equal(await B.page.evaluate('localStorage.getItem("outpost.dm.read")'), null, 'the read marks go with the key')
  await B.page.getByRole('button', { name: 'I already have a key' }).click()
  await B.page.getByLabel('Your secret key').fill(Buffer.from(aSk).toString('hex'))
  await B.page.getByRole('button', { name: 'Use this key' }).click()
  await B.page.getByLabel('Display name').waitFor(WAIT)
  await B.page.locator('.tabs').getByRole('link', { name: /^Messages/ }).click()
  await B.page.locator('.conversation', { hasText: 'Bob Tent' }).getByRole('link').click()
  await B.page.locator('.bubble').nth(1).waitFor(WAIT)
  t.same(await bubbles(B.page), [first, reply], 'a restored key reads the whole conversation, its own messages too')
  t.same(await B.page.locator('.bubble.mine .content').allTextContents(), [first], 'as the sender')

  // what the node holds, seen with both keys (NIP-42): gift wraps only, no plaintext
  const all = await relayQuery(base, {}, { auth: [aSk, bSk] })
  t.same([...new Set(all.map(e => e.kind))].sort((a, b) => a - b), [0, 1059], 'profiles and gift wraps, nothing else')
  t.equal((await relayQuery(base, { kinds: [14] }, { auth: [aSk, bSk] })).length, 0, 'no kind 14 on the node')
  t.equal((await relayQuery(base, { kinds: [13] }, { auth: [aSk, bSk] })).length, 0, 'no seal on the node')
  const wraps = all.filter(e => e.kind === 1059)
  t.equal(wraps.length, 4, 'two messages, each wrapped for the recipient and for the sender')
  const to = (e: NostrEvent): string | undefined => e.tags.find(x => x[0] === 'p')?.[1]
  t.same(wraps.map(to).sort(), [aPub, aPub, bPub, bPub].sort())
  const json = JSON.stringify(all)
  for (const text of [first, reply, 'tent 12', 'biscuits']) t.notOk(json.includes(text), `"${text}" appears nowhere on the node`)
  t.notOk(wraps.some(e => e.pubkey === aPub || e.pubkey === bPub), 'wraps are not signed by either person')
  t.same((await relayQuery(base, { kinds: [1059], '#p': [bPub] }, { auth: [bSk] })).length, 2, 'Bob\'s wraps are served to Bob')
  t.same((await relayQuery(base, {}, { auth: [bSk] })).filter(e => e.kind === 1059).map(to), [bPub, bPub], 'and only Bob\'s')
  // anyone else: not even that the wraps exist
  t.same([...new Set((await relayQuery(base, {})).map(e => e.kind))], [0], 'a stranger sees the profiles, no wraps')
  await t.rejects(relayQuery(base, { kinds: [1059], '#p': [bPub] }), /auth-required/, 'asking for wraps needs AUTH')

  // someone else writes to Alice: markup stays text; a wrap forged to look like Bob's is dropped
  const mallory = generateSecretKey()
  const hostile = nip17.wrapEvent(mallory, { publicKey: aPub }, '<img src=x onerror="window.__pwned=1"> hi')
  const now = Math.floor(Date.now() / 1000)
  const forged = giftWrap(seal(chatRumor(bSk, aPub, 'forged: send me your key', now), mallory, aPub, now), aPub, now)
  await relayPublish(base, [hostile, forged])
  await A.page.locator('.tabs').getByRole('link', { name: /^Messages/ }).click()
  const strange = A.page.locator('.conversation', { hasText: 'onerror' })
  await strange.waitFor(WAIT)
  t.match(await strange.textContent(), /<img src=x onerror="window.__pwned=1"> hi/, 'shown as text')
  t.equal(await A.page.evaluate('window.__pwned'), undefined, 'nothing ran')
  await A.page.locator('.messages [role=status]').waitFor({ state: 'detached', ...WAIT })
  t.equal(await A.page.locator('.conversation').count(), 2, 'Bob and the stranger; the forged wrap shows nowhere')
  await A.page.locator('.conversation', { hasText: 'Bob Tent' }).getByRole('link').click()
  await A.page.locator('.bubble').nth(1).waitFor(WAIT)
  t.same(await bubbles(A.page), [first, reply], 'the forged message is not in Bob\'s conversation')
  t.same(A.problems, [])
  t.same(B.problems, [])
})

t.test('a message written offline waits in the outbox, survives a reload, and arrives exactly once', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const A = await phone(browser)
  const B = await phone(browser)
  let blocked = false
  const open: Array<{ page: WebSocketRoute, server: WebSocketRoute }> = []
  await A.context.routeWebSocket(/.*/, ws => {
    if (blocked) { void ws.close(); return }
    open.push({ page: ws, server: ws.connectToServer() })
  })
  await createIdentity(B.page, base, { name: 'Bob Tent', tags: '#music' })
  await B.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  await createIdentity(A.page, base, { name: 'Alice Camp' })
  await messageFromPeople(A.page, 'music', 'Bob Tent')
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  const keys = { auth: [await secretKey(A.page), await secretKey(B.page)] }

  blocked = true
  for (const c of open.splice(0)) { await c.server.close(); await c.page.close() }
  await A.page.getByTestId('status').getByText('Reconnecting').waitFor(WAIT)
  const text = 'Written with no signal'
  await send(A.page, text)
  await A.page.locator('.bubble.mine', { hasText: text }).getByText('waiting to send').waitFor(WAIT)
  await A.page.getByTestId('pending').getByText('1 waiting to send').waitFor(WAIT)
  await screenshot(A.page, 'dm-offline')
  const queued = JSON.parse(await A.page.evaluate('localStorage.getItem("outpost.outbox")') as string) as NostrEvent[]
  t.same(queued.map(e => e.kind), [1059, 1059], 'both wraps wait in the persisted outbox')
  t.notOk(JSON.stringify(queued).includes(text), 'encrypted already: the stored outbox holds no plaintext')

  await A.page.reload()
  await A.page.locator('.bubble.mine', { hasText: text }).getByText('waiting to send').waitFor(WAIT)
  t.equal((await relayQuery(base, { kinds: [1059] }, keys)).length, 0, 'nothing on the node yet')

  blocked = false
  await A.page.getByTestId('pending').waitFor({ state: 'detached', timeout: 20000 })
  await A.page.locator('.bubble.mine', { hasText: text }).getByText('waiting to send').waitFor({ state: 'detached', ...WAIT })
  t.equal((await relayQuery(base, { kinds: [1059] }, keys)).length, 2, 'arrived once: one wrap each')

  // the OK was lost (say): the same wraps are sent again after a reload; still one copy each
  await A.page.evaluate(`localStorage.setItem("outpost.outbox", ${JSON.stringify(JSON.stringify(queued))})`)
  await A.page.reload()
  await A.page.getByTestId('status').getByText('Connected').waitFor(WAIT)
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  t.equal((await relayQuery(base, { kinds: [1059] }, keys)).length, 2, 'still one copy of each wrap')
  t.same(await bubbles(A.page), [text], 'shown once')

  await B.page.locator('.tabs').getByRole('link', { name: /^Messages/ }).click()
  await B.page.locator('.conversation', { hasText: 'Alice Camp' }).getByRole('link').click()
  await B.page.locator('.bubble.theirs').getByText(text).waitFor(WAIT)
  t.same(await bubbles(B.page), [text], 'Bob has it once')
  t.same(A.problems, [])
  t.same(B.problems, [])
})
