import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launchBrowser } from '../helpers/browser.js'
import { spawnNode } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { publish, fetchEvents } from '../sync/ws-client.js'
import { writePasswordFile } from './admin-client.js'

// A real browser: the forms post with the Origin and cookies Chromium really sends, under the
// page's CSP, with nothing reported on the console.
t.test('Chromium: log in, block a post\'s author from the newest-posts list, log out', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-admin-chromium-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const node = await spawnNode(t, ['--data', path.join(dir, 'data'), '--admin-password-file', writePasswordFile(dir, 'correct horse battery')])
  const spammer = signer()
  const post = spammer.sign({ content: 'buy <i>now</i> <script>document.title="pwned"</script>' })
  t.same(await publish(node.port, post), { ok: true, message: '' })

  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()) })
  page.on('pageerror', e => { problems.push(e.message) })
  await page.goto(`http://127.0.0.1:${node.port}/admin`)
  await page.fill('#password', 'correct horse battery')
  await Promise.all([page.waitForURL(/\/admin$/), page.click('button[type=submit]:has-text("Log in")')])
  t.match(await page.textContent('body'), /Events stored/, 'logged in by a real form post')
  t.match(await page.textContent('body'), /buy <i>now<\/i> <script>/, 'the post shows as text')
  t.not(await page.title(), 'pwned')

  await Promise.all([page.waitForURL(/\/admin$/), page.click('button:has-text("Block author")')])
  t.match(await page.textContent('.flash'), /^Blocked npub1/)
  t.same(await fetchEvents(node.port, { authors: [spammer.pubkey] }), [], 'blocked from the browser')

  await Promise.all([page.waitForURL(/\/admin$/), page.click('button:has-text("Log out")')])
  t.ok(await page.isVisible('#password'), 'back to the login form')
  t.same(problems, [], 'no console errors or CSP reports')
})
