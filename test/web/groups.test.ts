import t from 'tap'
import type { Page } from 'playwright-core'
import type { NostrEvent } from '../../node/src/events/types.js'
import { WAIT, createIdentity, launchBrowser, phone, relayQuery, screenshot, startNode } from '../helpers/browser.js'

async function send (page: Page, text: string): Promise<void> {
  await page.getByLabel('Your message').fill(text)
  await page.getByRole('button', { name: 'Send', exact: true }).click()
}

async function secretKey (page: Page): Promise<Uint8Array> {
  return Buffer.from(await page.evaluate('localStorage.getItem("outpost.sk")') as string, 'hex')
}

const pubkey = async (page: Page): Promise<string> => await page.evaluate('localStorage.getItem("outpost.pk")') as string
const bubbles = async (page: Page): Promise<string[]> => await page.locator('.bubble .content').allTextContents()
const messagesTab = async (page: Page): Promise<void> => { await page.locator('.tabs').getByRole('link', { name: /^Messages/ }).click() }

t.test('a group of three: started from the follow list, each phone sees the room with the right members, replies carry the sender\'s name; the node holds only wraps', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const [A, B, C] = [await phone(browser), await phone(browser), await phone(browser)] as const
  await createIdentity(A.page, base, { name: 'Ana Camp' })
  await createIdentity(B.page, base, { name: 'Bo Tent' })
  await createIdentity(C.page, base, { name: 'Cy Tree' })
  for (const P of [A, B, C]) await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  const [aPub, bPub, cPub] = [await pubkey(A.page), await pubkey(B.page), await pubkey(C.page)]
  const keys = [await secretKey(A.page), await secretKey(B.page), await secretKey(C.page)]
  const names = new Map([[aPub, 'Ana Camp'], [bPub, 'Bo Tent'], [cPub, 'Cy Tree']])
  /** a room's title as the phone of `me` shows it: the others' names in key order */
  const title = (me: string): string => [aPub, bPub, cPub].filter(p => p !== me).sort().map(p => names.get(p)).join(', ')

  // Ana follows Bo and Cy, then starts a group with both from the Messages page
  for (const [pk, name] of [[bPub, 'Bo Tent'], [cPub, 'Cy Tree']] as const) {
    await A.page.goto(base + '#/p/' + pk)
    await A.page.getByRole('button', { name: 'Follow ' + name }).click()
    await A.page.getByRole('button', { name: 'Unfollow ' + name }).waitFor(WAIT)
  }
  await messagesTab(A.page)
  await A.page.getByRole('button', { name: 'New group' }).click()
  const start = A.page.getByRole('button', { name: 'Start group' })
  await A.page.getByRole('checkbox', { name: 'Bo Tent' }).check()
  t.ok(await start.isDisabled(), 'one person is not a group')
  await A.page.getByRole('checkbox', { name: 'Cy Tree' }).check()
  await screenshot(A.page, 'group-new')
  await start.click()
  t.match(A.page.url(), new RegExp('#/dm/' + [bPub, cPub].sort().join(',') + '$'), 'the room\'s route: the others, sorted')
  await A.page.getByRole('heading', { name: title(aPub) }).waitFor(WAIT)
  const first = 'Dinner at the big fire at eight?'
  await send(A.page, first)
  await A.page.locator('.bubble.mine').getByText(first).waitFor(WAIT)
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })

  // Bo and Cy each find the group in their list, with the right members, and read it with Ana's name on it
  for (const [P, me] of [[B, bPub], [C, cPub]] as const) {
    await messagesTab(P.page)
    const row = P.page.locator('.conversation', { hasText: title(me) })
    await row.getByTestId('unread').getByText('1 new').waitFor(WAIT)
    t.match(await row.textContent(), /big fire/, 'the last message as preview')
    await row.getByRole('link').click()
    await P.page.getByRole('heading', { name: title(me) }).waitFor(WAIT)
    await P.page.locator('.bubble.theirs', { hasText: first }).locator('.from').getByText('Ana Camp').waitFor(WAIT)
  }
  await screenshot(B.page, 'group-chat')

  // Cy replies: Ana and Bo see it, with Cy's name
  const reply = 'Yes, bringing the pot'
  await send(C.page, reply)
  await C.page.locator('.bubble.mine').getByText(reply).waitFor(WAIT)
  for (const P of [A, B]) {
    await P.page.locator('.bubble.theirs', { hasText: reply }).locator('.from').getByText('Cy Tree').waitFor(WAIT)
    t.same(await bubbles(P.page), [first, reply], 'oldest first')
  }
  t.equal(await A.page.locator('.bubble.mine .from').count(), 0, 'no name on my own messages')
  await C.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })

  // a one-to-one chat is its own conversation, as before
  await B.page.goto(base + '#/dm/' + aPub)
  await B.page.getByRole('heading', { name: 'Ana Camp' }).waitFor(WAIT)
  const direct = 'Just to you: I have the matches'
  await send(B.page, direct)
  await B.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  await messagesTab(A.page)
  await A.page.locator('.conversation', { hasText: direct }).waitFor(WAIT)
  t.equal(await A.page.locator('.conversation').count(), 2, 'the group and Bo alone')
  await A.page.locator('.conversation', { hasText: direct }).getByRole('link').click()
  await A.page.getByRole('heading', { name: 'Bo Tent' }).waitFor(WAIT)
  t.same(await bubbles(A.page), [direct], 'only the one-to-one message')
  t.equal(await A.page.locator('.bubble .from').count(), 0, 'no sender names in a one-to-one chat')

  // after a reload the group is still there, from the wraps, read
  await A.page.reload()
  await messagesTab(A.page)
  const group = A.page.locator('.conversation', { hasText: title(aPub) })
  await group.waitFor(WAIT)
  t.equal(await A.page.getByTestId('unread').count(), 0, 'read marks per room survive the reload')

  // the node: gift wraps only, one per participant per message, no plaintext anywhere
  const all = await relayQuery(base, {}, { auth: keys })
  t.same([...new Set(all.map(e => e.kind))].sort((a, b) => a - b), [0, 3, 1059], 'profiles, Ana\'s follow list and gift wraps')
  const wraps = all.filter(e => e.kind === 1059)
  t.equal(wraps.length, 3 + 3 + 2, 'each group message wrapped for all three, the direct one for two')
  const to = (e: NostrEvent): string | undefined => e.tags.find(x => x[0] === 'p')?.[1]
  t.same(wraps.map(to).sort(), [aPub, aPub, aPub, bPub, bPub, bPub, cPub, cPub].sort())
  const json = JSON.stringify(all)
  for (const text of [first, reply, direct, 'big fire', 'the pot', 'matches']) t.notOk(json.includes(text), `"${text}" appears nowhere on the node`)
  t.same((await relayQuery(base, {}, { auth: [keys[2] as Uint8Array] })).filter(e => e.kind === 1059).map(to), [cPub, cPub], 'Cy is served only his own two wraps')
  t.same(A.problems, [])
  t.same(B.problems, [])
  t.same(C.problems, [])
})
