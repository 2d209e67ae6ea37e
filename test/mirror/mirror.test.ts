import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHttpApp } from '../../node/src/http/app.js'
import { mirror } from '../../node/src/mirror/mirror.js'
import type { Store } from '../../node/src/store/store.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import { createStore } from '../helpers/store.js'
import { signer } from '../helpers/events.js'
import { testLogger } from '../helpers/log.js'

/** A real store behind the koa app with the mirror mounted, on a loopback port. */
async function serve (t: Test, store: Store, pageSize: number): Promise<(path: string, init?: RequestInit) => Promise<{ status: number, html: string, headers: Headers }>> {
  const app = createHttpApp({
    log: testLogger(),
    nip11: () => ({ name: 'test' }),
    health: () => ({ ok: true }),
    staticDir: '/nonexistent',
    mirror: mirror({ store, name: 'Valley <mirror>', pageSize, maxLimit: 500 })
  })
  const server = http.createServer(app.callback())
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  return async (path, init) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init)
    return { status: res.status, html: await res.text(), headers: res.headers }
  }
}

async function ingest (store: Store, events: NostrEvent[]): Promise<void> {
  for (const r of await Promise.all(events.map(async e => await store.ingest(e, { type: 'client' })))) if (!r.ok) throw new Error(r.message)
}

const articleIds = (html: string): string[] => [...html.matchAll(/<article id="e-([0-9a-f]{64})"/g)].map(m => m[1] as string)
const nextHref = (html: string): string | null => /<nav class="pages"><a href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&') ?? null

t.test('newest posts first, paged with ?until= without losing or repeating posts that share a second', async t => {
  const store = await createStore(t)
  const get = await serve(t, store, 20)
  const s = signer()
  const T = 1_700_000_500
  // 45 posts in one second straddle three pages; the rest one per second, older
  const same = Array.from({ length: 45 }, (_, i) => s.sign({ content: `same second ${i}`, created_at: T }))
  const older = Array.from({ length: 50 }, (_, i) => s.sign({ content: `older ${i}`, created_at: T - 1 - i }))
  const reaction = s.sign({ kind: 7, content: '+', created_at: T + 5 })
  await ingest(store, [...same, ...older, reaction, s.sign({ kind: 0, content: JSON.stringify({ name: 'Sam' }) })])

  const seen: string[] = []
  let href: string | null = '/'
  let pages = 0
  let last = Infinity
  const byId = new Map([...same, ...older].map(e => [e.id, e]))
  while (href !== null && pages < 20) {
    const r = await get(href)
    t.equal(r.status, 200, `page ${href}`)
    for (const id of articleIds(r.html)) {
      const e = byId.get(id)
      t.ok(e !== undefined, 'only kind-1 posts are listed')
      t.ok((e as NostrEvent).created_at <= last, 'newest first')
      last = (e as NostrEvent).created_at
      seen.push(id)
    }
    href = nextHref(r.html)
    pages++
  }
  t.equal(pages, 5, '95 posts in pages of 20 (the last link leads to an empty-ish page or none)')
  t.equal(new Set(seen).size, seen.length, 'no post shown twice')
  t.equal(seen.length, 95, 'every post shown once')
  t.equal(articleIds((await get(`/?until=${T - 1}`)).html)[0], older[0]?.id, '?until= starts at that second')
  t.match((await get('/')).html, /Sam/, 'author names from kind 0')
})

t.test('tag view, author view and a thread with its replies', async t => {
  const store = await createStore(t)
  const get = await serve(t, store, 50)
  const alice = signer()
  const bob = signer()
  const root = alice.sign({ content: 'rain tomorrow?', tags: [['t', 'rain'], ['t', 'weather']], created_at: 1_700_000_000 })
  const replies = [1, 2, 3].map(i => bob.sign({ content: `reply ${i}`, tags: [['e', root.id, '', 'root'], ['p', alice.pubkey]], created_at: 1_700_000_000 + i }))
  const other = alice.sign({ content: 'sunny', tags: [['t', 'sun']], created_at: 1_700_000_100 })
  await ingest(store, [root, ...replies, other, alice.sign({ kind: 0, content: JSON.stringify({ display_name: 'Alice', name: 'alice' }) })])

  const tag = await get('/t/rain')
  t.same(articleIds(tag.html), [root.id], 'only posts with #rain')
  t.match(tag.html, /<h1>#rain<\/h1>/)
  t.same(articleIds((await get('/t/RAIN')).html), [root.id], 'a tag typed in capitals finds the lower-case tag')
  t.same(articleIds((await get('/t/nothing')).html), [])
  t.same(articleIds((await get(`/p/${alice.pubkey}`)).html), [other.id, root.id], 'an author\'s posts')
  t.match((await get(`/p/${alice.pubkey}`)).html, /Posts by Alice/)

  const thread = await get(`/e/${root.id}`)
  t.equal(thread.status, 200)
  t.same(articleIds(thread.html), [root.id, ...replies.map(r => r.id)], 'the post, then its replies oldest first')
  t.match(thread.html, /Replies \(3\)/)
  t.match(thread.html, /href="\/t\/weather"/, 'tags link to the tag view')
  const reply = await get(`/e/${replies[0]?.id ?? ''}`)
  t.match(reply.html, new RegExp(`<a href="/e/${root.id}">`), 'a reply links to its parent')
  t.match(reply.html, /No replies/)
})

t.test('hostile content is escaped; links only for http(s), with rel=noopener; no script anywhere', async t => {
  const store = await createStore(t)
  const get = await serve(t, store, 50)
  const mallory = signer()
  const evil = mallory.sign({
    content: '<script>alert(1)</script> & "q" \'s\' javascript:alert(2) data:text/html,<b>x</b> see https://example.org/a?b=1&c="><img src=x onerror=alert(3)> and http://ok.example/path.',
    tags: [['t', '"><script>alert(4)</script>'], ['t', 'x'.repeat(500)]]
  })
  await ingest(store, [evil, mallory.sign({ kind: 0, content: JSON.stringify({ name: '<img src=x onerror=alert(5)>\u202e' }) })])
  for (const path of ['/', `/e/${evil.id}`, `/p/${mallory.pubkey}`, `/t/${encodeURIComponent('"><script>alert(4)</script>')}`]) {
    const r = await get(path)
    t.equal(r.status, 200, path)
    t.notMatch(r.html, /<script/i, `${path}: no script element`)
    t.notMatch(r.html, /<img/i, `${path}: no injected element`)
    t.notMatch(r.html, /\u202e/, `${path}: no bidi override from a name`)
    t.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/, `${path}: strict CSP`)
    t.match(r.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/)
  }
  const html = (await get(`/e/${evil.id}`)).html
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;q&quot; &#39;s&#39;/, 'text shown as text')
  const hrefs = [...html.matchAll(/<a href="([^"]*)"([^>]*)>/g)].map(m => ({ href: m[1] as string, attrs: m[2] as string }))
  const external = hrefs.filter(h => !h.href.startsWith('/'))
  t.same(external.map(h => h.href), ['https://example.org/a?b=1&amp;c=', 'http://ok.example/path'], 'only the http(s) URLs are links, cut before a quote, trailing dot left out')
  for (const h of external) t.match(h.attrs, /rel="noopener noreferrer nofollow ugc"/)
  t.notMatch(html, /href="(javascript|data):/i)
  t.notMatch(html, /#x{100}/, 'an over-long tag is not shown')
  t.match((await get('/mirror.css')).headers.get('content-type') ?? '', /^text\/css/)
})

t.test('unknown ids are 404, odd input is 4xx, never 5xx', async t => {
  const store = await createStore(t)
  const get = await serve(t, store, 50)
  const s = signer()
  const profile = s.sign({ kind: 0, content: '{}' })
  await ingest(store, [profile, s.sign({ content: 'only post' })])
  t.equal((await get(`/e/${'a'.repeat(64)}`)).status, 404, 'unknown id')
  t.match((await get(`/e/${'a'.repeat(64)}`)).html, /No such post/)
  t.equal((await get(`/e/${profile.id}`)).status, 404, 'an event that is not a post')
  t.equal((await get('/e/xyz')).status, 404, 'not an id')
  t.equal((await get(`/p/${'z'.repeat(64)}`)).status, 404, 'not a key')
  t.equal((await get(`/p/${'b'.repeat(64)}`)).status, 200, 'an author with no posts')
  t.equal((await get('/t/%zz')).status, 400, 'bad percent-encoding')
  t.equal((await get(`/t/${'x'.repeat(100)}`)).status, 404, 'over-long tag')
  t.equal((await get('/?until=yesterday')).status, 400)
  t.equal((await get('/?until=1&until=2')).status, 400, 'repeated parameter')
  t.equal((await get('/?until=9999999999999')).status, 400, 'absurd number')
  t.equal((await get('/?until=0')).status, 200, 'the dawn of time: empty page')
  t.equal((await get('/?skip=100000')).status, 200, 'a skip past the limit is clamped')
  t.equal((await get('/', { method: 'POST', body: 'x' })).status, 405)
  t.equal((await get('/', { method: 'HEAD' })).status, 200)
  for (const p of ['/t/%00', '/t/a%2Fb', '/e/..%2F..%2Fetc', '/e/', '/t/', '/p/%F0%9F%98', '/t/%E2%80%AE', '/e/' + 'A'.repeat(64), '/?until=-1', '/?skip=abc', '/nothing/here']) {
    const r = await get(p)
    t.ok(r.status >= 200 && r.status < 500, `${p} -> ${r.status}`)
  }
})
