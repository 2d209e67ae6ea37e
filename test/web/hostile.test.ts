import t from 'tap'
import { WAIT, createIdentity, launchBrowser, phone, relayPublish, startNode, writePost } from '../helpers/browser.js'
import { signer } from '../helpers/events.js'

const PAYLOADS = [
  '<img src=x onerror="window.__pwned=1;alert(1)">',
  '<script>window.__pwned=2;alert(2)</script>',
  '<svg/onload=alert(3)><iframe src="javascript:alert(4)"></iframe>',
  'click javascript:alert(5) or [me](javascript:alert(6)) or data:text/html,<script>alert(7)</script>',
  'see http://"><script>alert(8)</script> and https://example.org/ok?a=<b>1</b>',
  '{{constructor.constructor(\'alert(9)\')()}} ${alert(10)} &lt;b&gt;'
]

t.test('HTML and script in posts and profiles render as text and run nothing', async t => {
  const { base } = await startNode(t)
  const eve = signer()
  const now = Math.floor(Date.now() / 1000)
  const profile = eve.sign({
    kind: 0,
    created_at: now - 100,
    tags: [['t', 'music'], ['t', '<b>bold</b>'], ['t', '"><img src=x onerror=alert(11)>']],
    content: JSON.stringify({ name: '<img src=x onerror="window.__pwned=12">Eve', about: '<script>alert(13)</script> https://example.org/eve', picture: 'javascript:alert(14)' })
  })
  const posts = PAYLOADS.map((content, i) => eve.sign({ content, created_at: now - 50 + i, tags: [['t', 'music']] }))
  const reply = eve.sign({ content: '<a href="javascript:alert(15)">reply</a>', created_at: now - 10, tags: [['e', posts[0]!.id, '<script>', 'root'], ['p', '"><script>alert(16)</script>']] })
  const victim = signer()
  const keep = victim.sign({ content: 'victim post stays', created_at: now - 5 })
  const gone = victim.sign({ content: 'victim post goes', created_at: now - 4 })
  await relayPublish(base, [profile, ...posts, reply, keep, gone])

  const browser = await launchBrowser(t)
  const V = await phone(browser)
  const dialogs: string[] = []
  V.page.on('dialog', d => { dialogs.push(d.message()); void d.dismiss() })

  const res = await V.page.goto(base)
  const csp = res?.headers()['content-security-policy'] ?? ''
  t.match(csp, /script-src 'self'/, 'the page is served with a strict CSP')
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)

  // every payload shows literally in the Here timeline
  for (const p of PAYLOADS) await V.page.locator('.post .content').filter({ hasText: p.slice(0, 30) }).first().waitFor(WAIT)
  const texts = await V.page.locator('.post .content').allTextContents()
  for (const p of PAYLOADS) t.ok(texts.includes(p), 'rendered as text: ' + p.slice(0, 40))
  await V.page.locator('.post .name').getByText('<img src=x onerror="window.__pwned=12">Eve').first().waitFor(WAIT)

  // a user typing HTML into the composer gets text too
  await createIdentity(V.page, base, { name: '<script>alert(17)</script>Mallory', about: '<img src=x onerror=alert(18)>' })
  await writePost(V.page, '<b onmouseover=alert(19)>hover</b> <img src=x onerror=alert(20)>')
  await V.page.locator('.post .content').getByText('<b onmouseover=alert(19)>hover</b>', { exact: false }).waitFor(WAIT)
  await V.page.locator('.post .content').first().hover()

  // the profile page, the thread and the people search
  await V.page.goto(base + '#/p/' + eve.pubkey)
  await V.page.locator('.profile h2').getByText('<img src=x onerror="window.__pwned=12">Eve').waitFor(WAIT)
  await V.page.locator('.profile .about').getByText('<script>alert(13)</script>', { exact: false }).waitFor(WAIT)
  t.same(await V.page.locator('.profile .tags .chip').allTextContents(), ['#music'], 'tags that are not words are dropped')
  await V.page.goto(base + '#/e/' + reply.id)
  await V.page.locator('.thread .post.nested .content').getByText('<a href="javascript:alert(15)">reply</a>').waitFor(WAIT)
  await V.page.goto(base + '#/people/' + encodeURIComponent('#music'))
  await V.page.locator('.person').first().waitFor(WAIT)
  await V.page.goto(base + '#/tag/' + encodeURIComponent('<script>alert(21)</script>'))
  await V.page.getByText('No posts with #<script>alert(21)</script> yet.').waitFor(WAIT)
  await V.page.goto(base + '#/')
  await V.page.locator('.post').getByText('victim post stays').waitFor(WAIT)

  // NIP-09: a deletion request counts only from the author; both arrive live, in this order
  await relayPublish(base, [eve.sign({ kind: 5, tags: [['e', keep.id]] }), victim.sign({ kind: 5, tags: [['e', gone.id]] })])
  await V.page.locator('.post', { hasText: 'victim post goes' }).waitFor({ state: 'detached', ...WAIT })
  t.equal(await V.page.locator('.post', { hasText: 'victim post stays' }).count(), 1, 'a stranger\'s deletion request hides nothing')

  const report = await V.page.evaluate(`(() => ({
    pwned: window.__pwned ?? null,
    scripts: [...document.scripts].map(s => s.src.replace(location.origin, '')),
    media: document.querySelectorAll('main img, main iframe, main object, main embed, .feed svg, [onerror], [onload], [onmouseover]').length,
    hrefs: [...document.querySelectorAll('main a')].map(a => a.getAttribute('href')),
    external: [...document.querySelectorAll('main a[href^="http"]')].map(a => a.rel)
  }))()`) as { pwned: unknown, scripts: string[], media: number, hrefs: string[], external: string[] }
  t.equal(report.pwned, null, 'no payload ran')
  t.same(dialogs, [], 'no alert, confirm or prompt was opened')
  t.ok(report.scripts.length === 1 && /^\/assets\/index-[0-9a-f]{12}\.js$/.test(report.scripts[0]!), 'the only script is the app bundle')
  t.equal(report.media, 0, 'no element or handler came from the payloads')
  t.ok(report.hrefs.length > 0 && report.hrefs.every(h => /^(#\/|https?:\/\/)/.test(h)), 'every link is an app route or http(s)')
  t.ok(report.external.length > 0 && report.external.every(r => r.includes('noopener')), 'outside links open with rel=noopener')
  t.same(V.problems, [], 'no page errors, no CSP violations')
})
