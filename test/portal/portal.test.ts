import t from 'tap'
import { connect } from 'node:net'
import { hostname } from 'node:os'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import WebSocket from 'ws'
import { continueFrom, send, startPortalNode, tempDir } from './portal-helpers.js'

t.test('foreign hosts are sent to the node\'s own address, before and after Continue', async t => {
  const { port } = await startPortalNode(t)
  const app = `http://127.0.0.1:${port}/`
  const phone = '127.0.0.5'
  const cases: Array<{ host: string, path: string, method?: string, status?: number }> = [
    { host: 'example.com', path: '/' },
    { host: 'news.example.org', path: '/world/today.html?ref=home#x' },
    { host: 'www.google.com', path: '/search?q=outpost' },
    { host: 'captive.apple.com.evil.example', path: '/hotspot-detect.html' },
    { host: 'www.apple.com', path: '/iphone/' },
    { host: '8.8.8.8', path: '/' },
    { host: '[2001:db8::1]:8080', path: '/x' },
    { host: 'example.com', path: '/api/health' },
    { host: 'example.com', path: '/portal/' },
    { host: 'example.com', path: '/form', method: 'POST', status: 303 },
    { host: 'example.com', path: '/', method: 'HEAD' },
    { host: 'a b c', path: '/' },
    { host: 'x'.repeat(400), path: '/' },
    { host: '[::1', path: '/' },
    { host: 'host:notaport', path: '/' },
    { host: 'ünïcode.example', path: '/' }
  ]
  for (const round of ['before', 'after']) {
    if (round === 'after') t.equal((await continueFrom(port, phone)).status, 303)
    for (const c of cases) {
      const r = await send(port, { host: c.host, path: c.path, method: c.method, from: phone })
      t.equal(r.status, c.status ?? 302, `${round}: ${c.method ?? 'GET'} ${c.host}${c.path}`)
      t.equal(r.headers.location, app, `${round}: ${c.host} -> the app`)
      t.equal(r.headers['cache-control'], 'no-store')
    }
  }
})

t.test('the node\'s own names and addresses reach the app directly', async t => {
  const { port } = await startPortalNode(t, ['--portal-hostname', 'node.home.arpa', '--portal-hostname', 'Camp.Local', '--portal-address', '10.42.0.1'])
  const own = ['127.0.0.1', `127.0.0.1:${port}`, 'localhost', `localhost:${port}`, 'node.home.arpa', 'NODE.HOME.ARPA.', 'camp.local:80',
    '10.42.0.1', 'app.localhost', hostname(), `${hostname()}.local`, '127.9.9.9', '[::1]', `[::1]:${port}`]
  for (const host of own) {
    const r = await send(port, { host, path: '/' })
    t.equal(r.status, 200, `${host}: the app`)
    t.match(r.headers['content-type'], /^text\/html/)
    const h = await send(port, { host, path: '/api/health' })
    t.equal(h.status, 200, `${host}: /api/health`)
    t.equal(JSON.parse(h.body).ok, true)
  }
  const nip11 = await send(port, { host: 'node.home.arpa', path: '/', headers: { Accept: 'application/nostr+json' } })
  t.equal(nip11.status, 200)
  t.match(nip11.headers['content-type'], /^application\/nostr\+json/)
  // the configured address is where foreign hosts go
  t.equal((await send(port, { host: 'example.com', path: '/' })).headers.location, `http://10.42.0.1:${port}/`, 'to the listening port unless --portal-port says otherwise')
  t.equal((await send(port, { host: 'connectivitycheck.gstatic.com', path: '/generate_204' })).headers.location, `http://10.42.0.1:${port}/portal/`)
})

t.test('--portal-port and an IPv6 portal address shape the redirect', async t => {
  const { port } = await startPortalNode(t, ['--portal-address', 'fd00::1', '--portal-port', '8081'])
  t.equal((await send(port, { host: 'example.com', path: '/' })).headers.location, 'http://[fd00::1]:8081/')
  t.equal((await send(port, { host: `127.0.0.1:${port}`, path: '/' })).status, 200)
})

t.test('WebSocket upgrades are never redirected, whatever the Host', async t => {
  const { port } = await startPortalNode(t)
  for (const host of ['example.com', 'connectivitycheck.gstatic.com', `127.0.0.1:${port}`]) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { Host: host } })
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const eose = new Promise<string>(resolve => ws.once('message', d => { resolve(String(d)) }))
    ws.send(JSON.stringify(['REQ', 's', { limit: 1 }]))
    t.same(JSON.parse(await eose), ['EOSE', 's'], `${host}: a relay connection`)
    ws.close()
  }
})

t.test('the splash: operator text escaped, logo, CSP, no script, a real form', async t => {
  const dir = await tempDir(t)
  const logo = path.join(dir, 'logo.png')
  await writeFile(logo, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'))
  const { port } = await startPortalNode(t, [
    '--portal-title', 'Camp <North> & "Friends"',
    '--portal-text', 'Hello <script>alert(1)</script>\nsecond line\n\nNew paragraph',
    '--portal-logo', logo,
    '--portal-address', 'node.home.arpa',
    '--portal-port', '80',
    '--portal-hostname', 'node.home.arpa'
  ])
  for (const p of ['/portal/', '/portal', '/portal/?from=cna', '/portal/index.html']) {
    const r = await send(port, { host: 'node.home.arpa', path: p, from: '127.0.0.6' })
    t.equal(r.status, 200, p)
    t.equal(r.headers['content-type'], 'text/html; charset=utf-8')
    t.equal(r.headers['cache-control'], 'no-store')
    t.match(r.headers['content-security-policy'], /script-src 'self'/)
    t.match(r.headers['content-security-policy'], /form-action 'self'/)
  }
  const html = (await send(port, { host: 'node.home.arpa', path: '/portal/', from: '127.0.0.6' })).body
  t.match(html, '<title>Camp &#60;North&#62; &#38; &#34;Friends&#34;</title>')
  t.match(html, '<h1>Camp &#60;North&#62; &#38; &#34;Friends&#34;</h1>')
  t.match(html, '<p class="operator">Hello &#60;script&#62;alert(1)&#60;/script&#62;<br>second line</p>')
  t.match(html, '<p class="operator">New paragraph</p>')
  t.notMatch(html, /<script/i, 'no script at all')
  t.notMatch(html, /\sstyle=/i, 'no inline style')
  t.match(html, '<form method="post" action="/portal/continue">')
  t.match(html, '<button type="submit">Continue</button>')
  t.match(html, '<a href="http://node.home.arpa/">http://node.home.arpa/</a>', 'the address to open in the browser')
  t.match(html, /Android:.*Use this network as is/)
  t.match(html, /iPhone \/ iPad:.*Done.*Safari/)
  t.match(html, /no internet/)
  t.match(html, '<img class="logo" src="/portal/logo" alt="">')
  t.notMatch(html, 'You are connected.')

  const img = await send(port, { host: 'node.home.arpa', path: '/portal/logo' })
  t.equal(img.status, 200)
  t.equal(img.headers['content-type'], 'image/png')
  t.match(img.headers['content-security-policy'], /sandbox/)
  const css = await send(port, { host: 'node.home.arpa', path: '/portal/splash.css' })
  t.equal(css.status, 200)
  t.equal(css.headers['content-type'], 'text/css; charset=utf-8')

  t.equal((await send(port, { host: 'node.home.arpa', path: '/portal/nope' })).status, 404)
  const put = await send(port, { host: 'node.home.arpa', path: '/portal/', method: 'PUT', body: 'x' })
  t.equal(put.status, 405)
  t.equal(put.headers.allow, 'GET, HEAD')
  const get = await send(port, { host: 'node.home.arpa', path: '/portal/continue', from: '127.0.0.6' })
  t.equal(get.status, 303, 'a GET of continue does not accept')
  t.equal(get.headers.location, '/portal/')
  t.equal((await send(port, { host: 'captive.apple.com', path: '/hotspot-detect.html', from: '127.0.0.6' })).status, 302)

  const c = await send(port, { host: 'node.home.arpa', path: '/portal/continue', method: 'POST', body: 'continue=1', from: '127.0.0.6' })
  t.equal(c.status, 303)
  t.equal(c.headers.location, '/')
  t.match((await send(port, { host: 'node.home.arpa', path: '/portal/', from: '127.0.0.6' })).body, 'You are connected.')
  t.equal((await send(port, { host: 'captive.apple.com', path: '/hotspot-detect.html', from: '127.0.0.6' })).status, 200)
})

t.test('a missing or oversized logo is left out, the node still starts', async t => {
  const dir = await tempDir(t)
  const big = path.join(dir, 'big.png')
  await writeFile(big, Buffer.alloc(600 * 1024))
  for (const logo of [path.join(dir, 'missing.png'), big, path.join(dir)]) {
    const { port } = await startPortalNode(t, ['--portal-logo', logo])
    t.notMatch((await send(port, { path: '/portal/' })).body, 'class="logo"')
    t.equal((await send(port, { path: '/portal/logo' })).status, 404)
  }
})

t.test('RFC 8908 API: application/captive+json per client', async t => {
  const { port } = await startPortalNode(t, ['--portal-client-ttl', '3600'])
  const phone = '127.0.0.7'
  const before = await send(port, { path: '/api/captive', from: phone, headers: { Accept: 'application/captive+json' } })
  t.equal(before.status, 200)
  t.equal(before.headers['content-type'], 'application/captive+json')
  t.equal(before.headers['cache-control'], 'private')
  t.same(JSON.parse(before.body), {
    captive: true,
    'user-portal-url': `http://127.0.0.1:${port}/portal/`,
    'venue-info-url': `http://127.0.0.1:${port}/`,
    'can-extend-session': true
  })
  await continueFrom(port, phone)
  const after = JSON.parse((await send(port, { host: 'example.com', path: '/api/captive', from: phone })).body)
  t.equal(after.captive, false)
  t.ok(after['seconds-remaining'] > 3590 && after['seconds-remaining'] <= 3600, `seconds-remaining ${after['seconds-remaining']}`)
  t.equal(JSON.parse((await send(port, { path: '/api/captive', from: '127.0.0.8' })).body).captive, true, 'another phone is still captive')
  t.equal((await send(port, { path: '/api/captive', method: 'HEAD' })).status, 200)
  t.equal(JSON.parse((await send(port, { path: '/api/captive/?x=1', from: phone })).body).captive, false, 'trailing slash and query')
  t.same(JSON.parse((await send(port, { path: '/api/health' })).body).portal, { mode: 'online', accepted: 1 }, 'health counts accepted phones')
  const post = await send(port, { path: '/api/captive', method: 'POST', body: '{}' })
  t.equal(post.status, 405)
  t.equal(post.headers.allow, 'GET, HEAD')
})

t.test('the relay role runs without the portal', async t => {
  const { port, portal } = await startPortalNode(t, ['--role', 'relay', '--community', 'ab'.repeat(32)])
  t.equal(portal, null)
  t.equal(JSON.parse((await send(port, { path: '/api/health' })).body).portal, null)
  const r = await send(port, { host: 'connectivitycheck.gstatic.com', path: '/' })
  t.equal(r.status, 200, 'any host gets the mirror')
  t.equal((await send(port, { path: '/api/captive' })).status, 404)
  const on = await startPortalNode(t, ['--role', 'relay', '--community', 'ab'.repeat(32), '--portal', 'on'])
  t.equal((await send(on.port, { host: 'example.com', path: '/' })).status, 302, '--portal on overrides the role')
  const off = await startPortalNode(t, ['--portal', 'off'])
  t.equal((await send(off.port, { host: 'example.com', path: '/' })).status, 200, '--portal off in the hotspot role')
})

/** Writes raw bytes and reads the status line of the answer (or '' if the server hung up). */
async function raw (port: number, bytes: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    let out = ''
    s.on('data', d => { out += d.toString('latin1') })
    s.on('end', () => { resolve(out.split('\r\n')[0] ?? '') })
    s.on('error', err => { (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(out.split('\r\n')[0] ?? '') : reject(err) })
    s.end(bytes)
  })
}

t.test('HEAD and odd requests never get a 5xx', async t => {
  const { port } = await startPortalNode(t)
  const hosts = ['connectivitycheck.gstatic.com', 'captive.apple.com', 'example.com', `127.0.0.1:${port}`, '', 'x'.repeat(2000), '%%%', '[::1', '...', '-']
  const paths = ['/', '//', '/generate_204/', '/generate_204?', '/hotspot-detect.html?x=%zz', '/%', '/%ff', '/portal/%ff', '/portal/..%2f..%2fetc/passwd',
    '/api/captive/', '/api/captive?x', '*', 'http://captive.apple.com/hotspot-detect.html', '/' + 'a'.repeat(4000), '/portal/continue?x=1', '/\u00e9']
  const methods = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PROPFIND', 'CONNECT']
  let n = 0
  for (const host of hosts) {
    for (const p of paths) {
      for (const m of methods) {
        const target = m === 'CONNECT' ? 'example.com:443' : p
        const head = `${m} ${encodeURI(target).replace(/%25/g, '%')} HTTP/1.1\r\n${host === '' ? '' : `Host: ${host}\r\n`}User-Agent: \u0001odd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`
        const line = await raw(port, head)
        const status = Number(line.split(' ')[1])
        if (!(status >= 200 && status < 500)) t.fail(`${m} ${target} Host ${host.slice(0, 20)}: ${line}`)
        n++
      }
    }
  }
  t.pass(`${n} odd requests, none answered 5xx`)
  t.equal((await send(port, { path: '/api/health' })).status, 200, 'still healthy')
})
