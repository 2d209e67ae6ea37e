import t from 'tap'
import { WAIT, createIdentity, launchBrowser, phone, relayPublish, relayQuery, screenshot, startNode, writePost } from '../helpers/browser.js'
import { signer } from '../helpers/events.js'

t.test('Activity: others\' replies, mentions and likes are counted in the header until looked at, and listed there', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const A = await phone(browser)
  await createIdentity(A.page, base, { name: 'Ana' })
  const me = await A.page.evaluate('localStorage.getItem("outpost.pk")') as string
  t.match(me, /^[0-9a-f]{64}$/)
  const link = A.page.getByTestId('activity-link')
  const count = A.page.getByTestId('activity-count')
  await link.waitFor(WAIT)
  await writePost(A.page, 'tents up by the lake')
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  const [post] = await relayQuery(base, { kinds: [1], authors: [me] })
  if (post === undefined) throw new Error('the post did not reach the node')
  t.equal(await count.count(), 0, 'my own post is not activity')

  // another Nostr client: Bo replies, likes, dislikes, and posts something unrelated
  const bo = signer()
  const later = Math.floor(Date.now() / 1000) + 2
  await relayPublish(base, [
    bo.sign({ kind: 0, content: JSON.stringify({ name: 'Bo' }) }),
    bo.sign({ content: 'see you there', tags: [['e', post.id, '', 'root'], ['p', me]], created_at: later }),
    bo.sign({ kind: 7, content: '+', tags: [['e', post.id], ['p', me], ['k', '1']], created_at: later }),
    bo.sign({ kind: 7, content: '-', tags: [['e', post.id], ['p', me], ['k', '1']], created_at: later }),
    bo.sign({ content: 'anyone got a torch?', created_at: later }),
    bo.sign({ kind: 3, tags: [['p', me]], created_at: later })
  ])
  await count.filter({ hasText: /^2/ }).waitFor(WAIT)
  t.pass('a reply and a like: 2 new (not the dislike, the follow list, the unrelated post or my own post)')
  await screenshot(A.page, 'activity-badge')

  await link.click()
  await A.page.getByText('see you there').waitFor(WAIT)
  await A.page.getByTestId('likes').getByText('Bo liked your post').waitFor(WAIT)
  t.equal(await A.page.getByTestId('likes').locator('li').count(), 1, 'one like listed: a dislike is not a like')
  t.equal(await A.page.getByText('anyone got a torch?').count(), 0, 'only what names me')
  await screenshot(A.page, 'activity-page')
  await count.waitFor({ state: 'detached', ...WAIT })
  t.pass('looking clears the count')

  // the phone goes away; a mention written hours ago at another site is brought in by a relay
  // meanwhile: back on the page it counts (by event, not by date), what was seen stays seen
  await A.page.goto('about:blank')
  await relayPublish(base, [bo.sign({ content: 'Ana, the torch is at the gate', tags: [['p', me]], created_at: Math.floor(Date.now() / 1000) - 4 * 3600 })])
  await A.page.goto(base + '#/')
  await count.filter({ hasText: /^1/ }).waitFor(WAIT)
  t.pass('one new mention while away, 4 h old by its date; the earlier two still seen')
  // and live, while the app is open
  await relayPublish(base, [bo.sign({ content: 'found it, thanks', tags: [['p', me]] })])
  await count.filter({ hasText: /^2/ }).waitFor(WAIT)
  t.pass('a live mention adds one')

  // follower counts on profiles: Bo's follow list names Ana; Ana follows Bo from his profile
  await A.page.goto(base + '#/p/' + me)
  await A.page.getByTestId('follow-counts').filter({ hasText: /^1 follower$/ }).waitFor(WAIT)
  await A.page.goto(base + '#/p/' + bo.pubkey)
  await A.page.getByTestId('follow-counts').filter({ hasText: /Follows 1 · 0 followers/ }).waitFor(WAIT)
  await A.page.getByRole('button', { name: 'Follow Bo' }).click()
  await A.page.getByTestId('follow-counts').filter({ hasText: /Follows 1 · 1 follower$/ }).waitFor(WAIT)
  t.pass('follower counts, mine at once on a tap')
  t.same(A.problems, [])
})
