import t from 'tap'
import type { WebSocketRoute } from 'playwright-core'
import type { NostrEvent } from '../../node/src/events/types.js'
import { WAIT, createIdentity, launchBrowser, phone, relayQuery, screenshot, startNode, writePost } from '../helpers/browser.js'

t.test('posts written while the relay is unreachable are queued, survive a reload and arrive exactly once', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const P = await phone(browser)

  // the WebSocket goes through a switch: the page (HTTP) stays reachable, the relay does not
  let blocked = false
  const open: Array<{ page: WebSocketRoute, server: WebSocketRoute }> = []
  await P.context.routeWebSocket(/.*/, ws => {
    if (blocked) { void ws.close(); return }
    open.push({ page: ws, server: ws.connectToServer() })
  })
  const cut = async (): Promise<void> => {
    blocked = true
    for (const c of open.splice(0)) { await c.server.close(); await c.page.close() }
  }

  await createIdentity(P.page, base, { name: 'Festival Fan' })
  await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  await P.page.getByTestId('status').getByText('Connected').waitFor(WAIT)

  await cut()
  await P.page.getByTestId('status').getByText('Reconnecting').waitFor(WAIT)
  await writePost(P.page, 'written in the mud #festival')
  await P.page.getByTestId('pending').getByText('1 waiting to send').waitFor(WAIT)
  await P.page.locator('.post', { hasText: 'written in the mud' }).getByText('waiting to send').waitFor(WAIT)
  await screenshot(P.page, 'offline-pending')

  const queued = await P.page.evaluate('localStorage.getItem("outpost.outbox")') as string
  t.equal((JSON.parse(queued) as NostrEvent[]).length, 1, 'the signed post is in the persisted outbox')
  t.equal((await relayQuery(base, { kinds: [1] })).length, 0, 'nothing reached the relay yet')

  // a reload while still cut off: the queue and the post are still there
  await P.page.reload()
  await P.page.getByTestId('pending').getByText('1 waiting to send').waitFor(WAIT)
  await P.page.locator('.post').getByText('written in the mud').waitFor(WAIT)
  t.equal((await relayQuery(base, { kinds: [1] })).length, 0, 'still nothing on the relay')

  // the Wi-Fi comes back: the app reconnects by itself and sends the queue
  blocked = false
  await P.page.getByTestId('pending').waitFor({ state: 'detached', timeout: 20000 })
  await P.page.getByTestId('status').getByText('Connected').waitFor(WAIT)
  const posts = await relayQuery(base, { kinds: [1] })
  t.same(posts.map(e => e.content), ['written in the mud #festival'], 'the post arrived once')
  t.same(posts[0]?.tags, [['t', 'festival']])

  // the OK was lost (say): the same signed event is sent again after a reload; still one copy
  await P.page.evaluate(`localStorage.setItem("outpost.outbox", ${JSON.stringify(queued)})`)
  await P.page.reload()
  await P.page.getByTestId('status').getByText('Connected').waitFor(WAIT)
  await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  t.equal(await P.page.evaluate('JSON.parse(localStorage.getItem("outpost.outbox")).length'), 0, 'the relay\'s "duplicate" settles it')
  t.equal((await relayQuery(base, { kinds: [1] })).length, 1, 'exactly one copy on the relay')
  t.same(P.problems, [])
})

t.test('inside a captive-portal sheet the app asks to open the real browser before making a key', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const cna = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
  const S = await phone(browser, { userAgent: cna })
  await S.page.goto(base)
  const notice = S.page.getByRole('alert').filter({ hasText: 'Open this page in your browser' })
  await notice.waitFor(WAIT)
  t.ok((await notice.textContent())?.includes(base), 'the notice shows the node address')
  await S.page.locator('.tabs').getByRole('link', { name: 'Join', exact: true }).click()
  await S.page.getByRole('alert').filter({ hasText: 'Open this page in your browser' }).waitFor(WAIT)
  await screenshot(S.page, 'captive-sheet')
  const R = await phone(browser)
  await R.page.goto(base + '#/me')
  await R.page.getByLabel('Display name').waitFor(WAIT)
  t.equal(await R.page.getByText('Open this page in your browser').count(), 0, 'a real browser gets no such notice')
})
