import t from 'tap'
import { WAIT, launchBrowser, phone, relayPublish, startNode } from '../helpers/browser.js'
import { signer } from '../helpers/events.js'

t.test('timelines page back in time as you scroll, per tag too, and take new posts live', async t => {
  // seeding 75 posts at once needs more than the default 20 messages/s per connection
  const { base } = await startNode(t, ['--messages-per-second', '500'])
  const a = signer()
  const now = Math.floor(Date.now() / 1000)
  // 75 posts a minute apart; every third one tagged #music
  const posts = Array.from({ length: 75 }, (_, i) => a.sign({
    content: `post number ${i}` + (i % 3 === 0 ? ' #music' : ''),
    created_at: now - 3600 + i * 30,
    tags: i % 3 === 0 ? [['t', 'music']] : []
  }))
  await relayPublish(base, posts)

  const browser = await launchBrowser(t)
  const P = await phone(browser)
  await P.page.goto(base)
  await P.page.locator('.post').getByText('post number 74', { exact: true }).waitFor(WAIT)
  const loaded = async (): Promise<number> => Number(await P.page.locator('.feed').getAttribute('data-loaded'))
  const atStart = await loaded()
  // 30 per page; a busy machine may have let the scroll sentinel ask for a second one, which
  // repeats the first page's oldest post (`until` is inclusive): 59 then, never 60
  t.ok(atStart === 30 || atStart === 59, `a page at a time, not everything (${atStart} loaded)`)
  t.equal(await P.page.locator('.post', { hasText: 'post number 0 #music' }).count(), 0)

  for (let i = 0; i < 6 && await P.page.getByText("That's all.").count() === 0; i++) {
    await P.page.evaluate('window.scrollTo(0, document.body.scrollHeight)')
    await P.page.locator('.feed[aria-busy="false"]').waitFor(WAIT)
    await P.page.waitForTimeout(100)
  }
  await P.page.getByText("That's all.").waitFor(WAIT)
  t.equal(await loaded(), 75, 'every post, page by page')
  const order = await P.page.locator('.post .content').allTextContents()
  t.same(order.slice(0, 2), ['post number 74', 'post number 73'], 'newest first')
  t.equal(order[order.length - 1], 'post number 0 #music', 'down to the oldest')
  t.equal(new Set(order).size, 75, 'no post twice')

  // a tag timeline holds only its tag
  await P.page.goto(base + '#/tag/music')
  await P.page.locator('.post').getByText('post number 72 #music').waitFor(WAIT)
  await P.page.getByText("That's all.").or(P.page.getByRole('button', { name: 'Older posts' })).first().waitFor(WAIT)
  const tagged = await P.page.locator('.post .content').allTextContents()
  t.equal(tagged.length, 25, 'the 25 #music posts')
  t.ok(tagged.every(x => x.endsWith('#music')))

  // a new tagged post shows up on the open tag page without a reload
  await relayPublish(base, [a.sign({ content: 'fresh one #music', tags: [['t', 'music']] })])
  await P.page.locator('.post').first().getByText('fresh one #music').waitFor(WAIT)
  t.same(P.problems, [])
})
