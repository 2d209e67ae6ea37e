import t from 'tap'
import { WAIT, createIdentity, launchBrowser, phone, relayQuery, startNode, writePost } from '../helpers/browser.js'

t.test('the app bears the node\'s name; a phone with a wrong clock signs with the node\'s time; a post the node refuses is reported, not lost silently', async t => {
  const site = 'Campsite <b>North</b>'
  const { base } = await startNode(t, ['--max-content-length', '100', '--name', site])
  const browser = await launchBrowser(t)
  const P = await phone(browser)
  // the phone thinks it is three hours later: the node would refuse events "from the future"
  await P.page.clock.install({ time: Date.now() + 3 * 3600 * 1000 })
  await createIdentity(P.page, base, { name: 'Late Clock' })
  const heading = P.page.getByRole('heading', { level: 1 })
  await heading.filter({ hasText: site }).waitFor(WAIT)
  t.equal(await heading.textContent(), site, 'the site\'s name heads the app, as text')
  t.equal(await P.page.title(), site, 'and titles the page')
  await writePost(P.page, 'on time after all')
  await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  const [post] = await relayQuery(base, { kinds: [1] })
  t.ok(post !== undefined && Math.abs(post.created_at - Date.now() / 1000) < 120, 'signed with the node\'s time')

  await P.page.getByLabel('Write a post').fill('x'.repeat(150))
  await P.page.getByRole('button', { name: 'Post', exact: true }).click()
  const notice = P.page.getByRole('alert').filter({ hasText: 'Not accepted by this node' })
  await notice.waitFor(WAIT)
  t.match(await notice.textContent(), /invalid/, 'with the node\'s reason')
  t.equal((await relayQuery(base, { kinds: [1] })).length, 1)
  await notice.getByRole('button', { name: 'OK' }).click()
  await notice.waitFor({ state: 'detached', ...WAIT })
  t.same(P.problems, [])
})
