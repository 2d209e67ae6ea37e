import t, { type Test } from 'tap'
import { request, type Server } from 'node:http'
import { mkdtemp, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync, gzipSync } from 'node:zlib'
import { createHttpApp, createHttpServer, listen, closeHttpServer } from '../../node/src/http/app.js'
import { testLogger } from '../helpers/log.js'
import { ensureWebBuilt } from '../helpers/browser.js'

const portalDir = fileURLToPath(new URL('../../captive-portal/dist/', import.meta.url))

interface Res { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

/** Raw HTTP: no URL normalization and no transparent decompression, unlike fetch. */
async function get (port: number, rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method, headers, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const json = (r: Res): unknown => JSON.parse(r.body.toString('utf8'))

interface Fixture { port: number, www: string, health: { ok: boolean, [k: string]: unknown } }

/** A temp static dir (with a secret beside it) served by the app on a port-0 server. */
async function start (t: Test, staticDir?: string): Promise<Fixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-http-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const www = path.join(dir, 'www')
  await mkdir(path.join(www, 'assets'), { recursive: true })
  await writeFile(path.join(dir, 'secret.txt'), 'top secret')
  await writeFile(path.join(www, 'index.html'), '<!doctype html><title>x</title>' + '<p>hello</p>'.repeat(200))
  await writeFile(path.join(www, 'assets', 'app.3f9a1c.js'), 'console.log("outpost");\n'.repeat(200))
  await writeFile(path.join(www, 'assets', 'app.js'), 'let a = 1;\n'.repeat(200))
  const css = 'body { color: red; }\n'.repeat(200)
  await writeFile(path.join(www, 'style.css'), css)
  await writeFile(path.join(www, 'style.css.gz'), gzipSync(Buffer.from(css.replace('red', 'blue'))))
  await writeFile(path.join(www, 'tiny.txt'), 'tiny')
  await writeFile(path.join(www, 'logo.png'), Buffer.alloc(2048, 7))
  await writeFile(path.join(www, '.env'), 'SECRET=1')
  await symlink(path.join(dir, 'secret.txt'), path.join(www, 'leak.txt'))
  await symlink(dir, path.join(www, 'up'))

  const fx: Fixture = { port: 0, www, health: { ok: true, version: '0.1.0', events: 3, uptime: 5 } }
  const app = createHttpApp({
    log: testLogger(),
    nip11: () => ({ name: 'test node', software: 'outpost', supported_nips: [1, 11] }),
    health: () => fx.health,
    staticDir: staticDir ?? www
  })
  const server: Server = createHttpServer(app, { handleUpgrade: (_req, socket) => { socket.destroy() } })
  t.teardown(() => closeHttpServer(server))
  fx.port = (await listen(server, '127.0.0.1', 0)).port
  return fx
}

t.test('listen resolves with the bound address', async t => {
  const fx = await start(t)
  t.ok(fx.port > 0)
})

t.test('GET / with Accept: application/nostr+json is the NIP-11 document with CORS', async t => {
  const { port } = await start(t)
  const r = await get(port, '/', { Accept: 'application/nostr+json' })
  t.equal(r.status, 200)
  t.match(r.headers['content-type'], /^application\/nostr\+json/)
  t.equal(r.headers['access-control-allow-origin'], '*')
  t.match(r.headers['access-control-allow-methods'], /GET/)
  t.match(r.headers.vary, /Accept/)
  t.same(json(r), { name: 'test node', software: 'outpost', supported_nips: [1, 11] })
})

t.test('GET / without the Accept header is the web client', async t => {
  const { port } = await start(t)
  const r = await get(port, '/')
  t.equal(r.status, 200)
  t.match(r.headers['content-type'], /^text\/html/)
  t.match(r.body.toString(), /hello/)
  t.match(r.headers.vary, /Accept/, 'caches must not mix up the page and NIP-11')
  t.equal(r.headers['cache-control'], 'no-cache')
})

t.test('CORS preflight on / and /api/health', async t => {
  const { port } = await start(t)
  for (const p of ['/', '/api/health']) {
    const r = await get(port, p, { Origin: 'http://elsewhere', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'accept' }, 'OPTIONS')
    t.equal(r.status, 204, p)
    t.equal(r.headers['access-control-allow-origin'], '*')
    t.match(r.headers['access-control-allow-headers'], /Accept/)
    t.match(r.headers['access-control-allow-methods'], /OPTIONS/)
  }
})

t.test('health is 200 when ready and 503 when not', async t => {
  const fx = await start(t)
  const ok = await get(fx.port, '/api/health')
  t.equal(ok.status, 200)
  t.same(json(ok), { ok: true, version: '0.1.0', events: 3, uptime: 5 })
  t.equal(ok.headers['cache-control'], 'no-store')
  fx.health = { ok: false, reason: 'starting' }
  const down = await get(fx.port, '/api/health')
  t.equal(down.status, 503)
  t.same(json(down), { ok: false, reason: 'starting' })
  t.equal((await get(fx.port, '/api/health', {}, 'POST')).status, 405)
})

t.test('HTML carries a strict CSP and every response nosniff', async t => {
  const { port } = await start(t)
  const html = await get(port, '/index.html')
  const csp = String(html.headers['content-security-policy'])
  t.match(csp, /default-src 'self'/)
  t.match(csp, /script-src 'self'/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  t.match(csp, /connect-src 'self' ws: wss:/)
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(html.headers['x-content-type-options'], 'nosniff')
  const js = await get(port, '/assets/app.js')
  t.equal(js.headers['content-security-policy'], undefined)
  t.equal(js.headers['x-content-type-options'], 'nosniff')
  t.equal((await get(port, '/nope')).headers['x-content-type-options'], 'nosniff')
})

t.test('hashed files are immutable, others revalidate', async t => {
  const { port } = await start(t)
  const hashed = await get(port, '/assets/app.3f9a1c.js')
  t.equal(hashed.status, 200)
  t.equal(hashed.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.match(hashed.headers['content-type'], /^text\/javascript/)
  t.equal((await get(port, '/assets/app.js')).headers['cache-control'], 'no-cache')
  t.equal((await get(port, '/index.html')).headers['cache-control'], 'no-cache')
  t.equal((await get(port, '/logo.png')).headers['content-type'], 'image/png')
})

t.test('gzip: compressed on the fly, precompressed when present, never for images', async t => {
  const { port, www } = await start(t)
  const plain = await get(port, '/assets/app.js')
  t.equal(plain.headers['content-encoding'], undefined, 'no gzip unless asked')
  t.match(plain.headers.vary, /Accept-Encoding/)

  const gz = await get(port, '/assets/app.js', { 'Accept-Encoding': 'gzip, deflate' })
  t.equal(gz.headers['content-encoding'], 'gzip')
  t.equal(Number(gz.headers['content-length']), gz.body.length)
  t.ok(gz.body.length < plain.body.length)
  t.same(gunzipSync(gz.body), plain.body)
  t.not(gz.headers.etag, plain.headers.etag, 'each encoding has its own ETag')
  const again = await get(port, '/assets/app.js', { 'Accept-Encoding': 'gzip' })
  t.same(again.body, gz.body, 'served from the cache')

  const css = await get(port, '/style.css', { 'Accept-Encoding': 'gzip' })
  t.equal(css.headers['content-encoding'], 'gzip')
  t.match(gunzipSync(css.body).toString(), /blue/, 'the .gz beside the file is used')
  // a stale .gz (older than its file) is ignored
  const old = new Date(Date.now() - 60_000)
  await utimes(path.join(www, 'style.css.gz'), old, old)
  const fresh = await get(port, '/style.css', { 'Accept-Encoding': 'gzip' })
  t.match(gunzipSync(fresh.body).toString(), /red/)

  t.equal((await get(port, '/logo.png', { 'Accept-Encoding': 'gzip' })).headers['content-encoding'], undefined)
  t.equal((await get(port, '/tiny.txt', { 'Accept-Encoding': 'gzip' })).headers['content-encoding'], undefined)
})

t.test('ETag revalidation answers 304 and HEAD has headers without a body', async t => {
  const { port } = await start(t)
  const first = await get(port, '/assets/app.js')
  const etag = String(first.headers.etag)
  t.ok(etag.length > 2)
  const second = await get(port, '/assets/app.js', { 'If-None-Match': etag })
  t.equal(second.status, 304)
  t.equal(second.body.length, 0)
  const gzEtag = String((await get(port, '/assets/app.js', { 'Accept-Encoding': 'gzip' })).headers.etag)
  t.equal((await get(port, '/assets/app.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': gzEtag })).status, 304)

  const head = await get(port, '/assets/app.js', {}, 'HEAD')
  t.equal(head.status, 200)
  t.equal(head.body.length, 0)
  t.equal(Number(head.headers['content-length']), first.body.length)
  t.equal(head.headers.etag, etag)
})

t.test('nothing outside the static dir is ever served', async t => {
  const { port } = await start(t)
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2E%2E/package.json',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/../package.json',
    '/%2e%2e%2f%2e%2e%2fpackage.json',
    '/leak.txt',
    '/up/secret.txt',
    '/.env',
    '/assets/%00',
    '/%E0%A4%A'
  ]
  for (const p of attempts) {
    const r = await get(port, p)
    t.ok(r.status === 400 || r.status === 404, `${p} -> ${r.status}`)
    t.notMatch(r.body.toString(), /top secret|SECRET=1|"name"/, p)
  }
})

t.test('unknown paths and methods are 404 with a JSON error, directories serve their index', async t => {
  const { port } = await start(t)
  const r = await get(port, '/no/such/file.js')
  t.equal(r.status, 404)
  t.same(json(r), { error: 'Not Found' })
  t.equal(r.headers['cache-control'], 'no-store')
  t.equal((await get(port, '/assets')).status, 404)
  t.equal((await get(port, '/index.html', {}, 'POST')).status, 404)
})

t.test('a missing static dir is a 404, not a crash', async t => {
  const { port } = await start(t, path.join(tmpdir(), 'outpost-no-such-dir-' + process.pid))
  t.equal((await get(port, '/')).status, 404)
  t.equal((await get(port, '/api/health')).status, 200)
})

t.test('server errors are generic; the details stay in the log', async t => {
  const app = createHttpApp({
    log: testLogger(),
    nip11: () => { throw new Error('secret detail at /home/pi') },
    health: () => { throw Object.assign(new Error('teapot'), { status: 418, expose: true }) },
    staticDir: portalDir
  })
  const server = createHttpServer(app, { handleUpgrade: (_req, socket) => { socket.destroy() } })
  t.teardown(() => closeHttpServer(server))
  const { port } = await listen(server, '127.0.0.1', 0)
  const r = await get(port, '/', { Accept: 'application/nostr+json' })
  t.equal(r.status, 500)
  t.same(json(r), { error: 'Internal Server Error' })
  t.notMatch(r.body.toString(), /secret|home|at /)
  const teapot = await get(port, '/api/health')
  t.equal(teapot.status, 418)
  t.same(json(teapot), { error: 'teapot' })
})

t.test('the built phone client is served: nothing inline, hashed assets gzipped and cached for good', async t => {
  ensureWebBuilt()
  const { port } = await start(t, portalDir)
  const r = await get(port, '/')
  t.equal(r.status, 200)
  const html = r.body.toString()
  t.match(html, /Outpost/)
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|<style|style=/, 'nothing inline for the CSP to block')
  t.ok(r.headers['content-security-policy'])
  t.equal(r.headers['cache-control'], 'no-cache')
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(m => m[1] as string)
  t.ok(assets.some(a => a.endsWith('.js')) && assets.some(a => a.endsWith('.css')), 'a script and a stylesheet')
  for (const a of assets) {
    const x = await get(port, a, { 'Accept-Encoding': 'gzip' })
    t.equal(x.status, 200, a)
    t.match(x.headers['cache-control'], /immutable/, 'hashed name, cached for good: ' + a)
    t.equal(x.headers['content-encoding'], 'gzip')
  }
})
