import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { PROBES, renderProbeTable } from '../../node/src/portal/probes.js'
import { continueFrom, send, startPortalNode, type Res } from './portal-helpers.js'

// The requests each OS really sends and what it needs back to say "online", written out
// independently of node/src/portal/probes.ts (sources: shared/research/captive-portal-notes.md §1).
const UA = {
  androidX11: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.32 Safari/537.36',
  dalvik: 'Dalvik/2.1.0 (Linux; U; Android 14; SM-S911B Build/UP1A.231005.007)',
  apple: 'CaptiveNetworkSupport-481.100.2 wispr',
  ncsi: 'Microsoft NCSI',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  nm: 'NetworkManager/1.42.4',
  chromeos: 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
}

interface Online { status: number, type?: string, body?: string, nm?: true, app?: true }
const NO_CONTENT: Online = { status: 204 }
const APPLE: Online = { status: 200, type: 'text/html', body: '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>' }
const NM_ONLINE: Online = { status: 200, type: 'text/plain; charset=utf-8', body: 'NetworkManager is online\n', nm: true }

interface Real { os: string, host: string, path: string, ua: string, online: Online }
const REAL: Real[] = [
  { os: 'Android HTTP probe', host: 'connectivitycheck.gstatic.com', path: '/generate_204', ua: UA.androidX11, online: NO_CONTENT },
  { os: 'Android fallback', host: 'www.google.com', path: '/gen_204', ua: UA.androidX11, online: NO_CONTENT },
  { os: 'Android fallback', host: 'www.google.com', path: '/generate_204', ua: UA.androidX11, online: NO_CONTENT },
  { os: 'Android fallback', host: 'play.googleapis.com', path: '/generate_204', ua: UA.androidX11, online: NO_CONTENT },
  { os: 'Android fallback', host: 'play.googleapis.com', path: '/gen_204', ua: UA.androidX11, online: NO_CONTENT },
  { os: 'older Android', host: 'clients3.google.com', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'older Android / Samsung', host: 'connectivitycheck.android.com', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'Android China', host: 'www.google.cn', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'Android China', host: 'g.cn', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'Samsung', host: 'd2uzsrnmmf6tds.cloudfront.net', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'Huawei', host: 'connectivitycheck.platform.hicloud.com', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'Xiaomi', host: 'connect.rom.miui.com', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'FireOS', host: 'fireoscaptiveportal.com', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'ChromeOS', host: 'www.gstatic.com', path: '/generate_204', ua: UA.chromeos, online: NO_CONTENT },
  { os: 'Apple CNA', host: 'captive.apple.com', path: '/hotspot-detect.html', ua: UA.apple, online: APPLE },
  { os: 'Apple legacy', host: 'www.apple.com', path: '/library/test/success.html', ua: UA.apple, online: APPLE },
  { os: 'Apple legacy', host: 'apple.com', path: '/library/test/success.html', ua: UA.apple, online: APPLE },
  { os: 'Apple', host: 'www.apple.com', path: '/hotspot-detect.html', ua: UA.apple, online: APPLE },
  { os: 'Apple', host: 'apple.com', path: '/hotspot-detect.html', ua: UA.apple, online: APPLE },
  ...['www.appleiphonecell.com', 'www.itools.info', 'www.ibook.info', 'www.airport.us', 'www.thinkdifferent.us', 'gsp1.apple.com', 'netcts.cdn-apple.com']
    .map(host => ({ os: 'Apple other hosts', host, path: '/hotspot-detect.html', ua: UA.apple, online: APPLE })),
  { os: 'Apple random path', host: 'www.appleiphonecell.com', path: '/x7Kq2/index.html', ua: UA.apple, online: APPLE },
  { os: 'Windows NCSI', host: 'www.msftconnecttest.com', path: '/connecttest.txt', ua: UA.ncsi, online: { status: 200, type: 'text/plain', body: 'Microsoft Connect Test' } },
  { os: 'Windows NCSI v6', host: 'ipv6.msftconnecttest.com', path: '/connecttest.txt', ua: UA.ncsi, online: { status: 200, type: 'text/plain', body: 'Microsoft Connect Test' } },
  { os: 'Windows 7/8', host: 'www.msftncsi.com', path: '/ncsi.txt', ua: UA.ncsi, online: { status: 200, type: 'text/plain', body: 'Microsoft NCSI' } },
  { os: 'Windows 7/8 v6', host: 'ipv6.msftncsi.com', path: '/ncsi.txt', ua: UA.ncsi, online: { status: 200, type: 'text/plain', body: 'Microsoft NCSI' } },
  { os: 'Edge', host: 'edge-http.microsoft.com', path: '/captiveportal/generate_204', ua: UA.edge, online: NO_CONTENT },
  { os: 'Edge', host: 'www.msftconnecttest.com', path: '/captiveportal/generate_204', ua: UA.edge, online: NO_CONTENT },
  { os: 'Windows browser', host: 'www.msftconnecttest.com', path: '/redirect', ua: UA.edge, online: { status: 302, app: true } },
  { os: 'Firefox', host: 'detectportal.firefox.com', path: '/canonical.html', ua: UA.firefox, online: { status: 200, type: 'text/html', body: '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>' } },
  { os: 'Firefox connectivity', host: 'detectportal.firefox.com', path: '/success.txt?ipv4', ua: UA.firefox, online: { status: 200, type: 'text/plain', body: 'success\n' } },
  { os: 'Firefox connectivity v6', host: 'detectportal.firefox.com', path: '/success.txt?ipv6', ua: UA.firefox, online: { status: 200, type: 'text/plain', body: 'success\n' } },
  { os: 'GNOME', host: 'nmcheck.gnome.org', path: '/check_network_status.txt', ua: UA.nm, online: NM_ONLINE },
  { os: 'Ubuntu', host: 'connectivity-check.ubuntu.com.', path: '/', ua: UA.nm, online: { status: 204, nm: true } },
  { os: 'Debian', host: 'network-test.debian.org', path: '/nm', ua: UA.nm, online: NM_ONLINE },
  { os: 'KDE', host: 'networkcheck.kde.org', path: '/', ua: UA.nm, online: { status: 200, type: 'text/plain; charset=utf-8', body: 'OK\n', nm: true } },
  { os: 'Fedora', host: 'fedoraproject.org', path: '/static/hotspot.txt', ua: UA.nm, online: { status: 200, type: 'text/plain; charset=utf-8', body: 'OK\n', nm: true } },
  { os: 'Arch', host: 'ping.archlinux.org', path: '/nm-check.txt', ua: UA.nm, online: NM_ONLINE },
  { os: 'unlisted OEM', host: 'connectivity.oem.example', path: '/generate_204', ua: UA.dalvik, online: NO_CONTENT },
  { os: 'Apple agent, unlisted host', host: 'captive.example.net', path: '/whatever.html', ua: UA.apple, online: APPLE }
]

function captive (t: Test, r: Res, port: number, what: string): void {
  t.equal(r.status, 302, `${what}: 302`)
  t.equal(r.headers.location, `http://127.0.0.1:${port}/portal/`, `${what}: to the splash`)
  t.equal(r.headers['content-type'], 'text/html; charset=utf-8', `${what}: html`)
  t.equal(r.headers['cache-control'], 'no-store', `${what}: no-store`)
  t.not(r.headers['x-networkmanager-status'], 'online', `${what}: no NM online header`)
}

function online (t: Test, r: Res, port: number, o: Online, what: string, head = false): void {
  t.equal(r.status, o.status, `${what}: status ${o.status}`)
  if (o.app === true) {
    t.equal(r.headers.location, `http://127.0.0.1:${port}/`, `${what}: to the app`)
    return
  }
  t.equal(r.headers['cache-control'], 'no-store', `${what}: no-store`)
  t.equal(r.headers['x-networkmanager-status'], o.nm === true ? 'online' : undefined, `${what}: NM header`)
  if (o.status === 204) {
    t.equal(r.body, '', `${what}: empty`)
    t.equal(r.headers['content-type'], undefined, `${what}: no type`)
    t.equal(r.headers['content-length'], undefined, `${what}: no length`)
    return
  }
  t.equal(r.headers['content-type'], o.type, `${what}: type`)
  t.equal(r.body, head ? '' : o.body, `${what}: body`)
  t.equal(r.headers['content-length'], String(Buffer.byteLength(o.body ?? '')), `${what}: length`)
}

t.test('the test list covers every entry of the probe table', async t => {
  for (const p of PROBES) {
    for (const host of p.hosts) {
      const paths = p.paths === '*' ? ['*'] : p.paths
      for (const path of paths) {
        t.ok(REAL.some(r => r.host.replace(/\.$/, '') === host && (path === '*' || r.path.split('?')[0] === path)), `${p.id}: ${host}${path}`)
      }
    }
  }
})

t.test('the README carries the probe table as generated from the code', async t => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  t.ok(readme.includes(renderProbeTable()), 'README.md probe table = renderProbeTable() (regenerate it after changing probes.ts)')
  t.equal(renderProbeTable().trim().split('\n').length, PROBES.length + 4, 'header, rule, one row per entry, two generic rules')
})

t.test('each OS probe is captive before Continue and gets its exact online answer after', async t => {
  const node = await startPortalNode(t)
  const { port } = node
  const phone = '127.0.0.2'
  const other = '127.0.0.3'
  for (const p of REAL) {
    captive(t, await send(port, { host: p.host, path: p.path, ua: p.ua, from: phone }), port, `${p.os} ${p.host}${p.path} before`)
  }

  const c = await continueFrom(port, phone)
  t.equal(c.status, 303, 'Continue is a 303')
  t.equal(c.headers.location, '/', 'to the app')

  for (const p of REAL) {
    const what = `${p.os} ${p.host}${p.path} after`
    online(t, await send(port, { host: p.host, path: p.path, ua: p.ua, from: phone }), port, p.online, what)
    online(t, await send(port, { host: p.host, path: p.path, ua: p.ua, from: phone, method: 'HEAD' }), port, p.online, `${what} (HEAD)`, true)
    // another phone on the same hotspot has not continued
    captive(t, await send(port, { host: p.host, path: p.path, ua: p.ua, from: other }), port, `${what}, other phone`)
  }

  // the same probes with a trailing slash, a query string, an upper-case host, a port and no agent
  const variants: Array<[string, (p: Real) => { host: string, path: string, ua: string }]> = [
    ['trailing slash', p => ({ ...p, path: p.path.split('?')[0] === '/' ? '//' : p.path.split('?')[0] + '/' })],
    ['query', p => ({ ...p, path: p.path.split('?')[0] + '?t=1700000000&x=%20' })],
    ['upper-case host with port', p => ({ ...p, host: p.host.toUpperCase() + ':80' })],
    ['no agent', p => ({ ...p, ua: '' })]
  ]
  for (const [name, change] of variants) {
    for (const p of REAL) {
      if (name === 'no agent' && p.os.startsWith('Apple agent')) continue
      const v = change(p)
      online(t, await send(port, { ...v, from: phone }), port, p.online, `${p.os} ${v.host}${v.path} (${name})`)
    }
  }
})

t.test('honest mode: probes stay captive after Continue; the API says captive', async t => {
  const { port } = await startPortalNode(t, ['--portal-mode', 'honest'])
  const phone = '127.0.0.4'
  t.equal((await continueFrom(port, phone)).status, 303)
  for (const p of REAL.filter(r => r.online.app !== true)) {
    captive(t, await send(port, { host: p.host, path: p.path, ua: p.ua, from: phone }), port, `${p.os} honest`)
  }
  const win = await send(port, { host: 'www.msftconnecttest.com', path: '/redirect', from: phone })
  t.equal(win.headers.location, `http://127.0.0.1:${port}/`, 'the browser page still leads to the app')
  const api = JSON.parse((await send(port, { path: '/api/captive', from: phone })).body)
  t.equal(api.captive, true)
  t.type(api['seconds-remaining'], 'number')
})
