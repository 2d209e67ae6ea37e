/**
 * The connectivity probes of each OS and browser, and the exact answer that makes each one
 * conclude "online". Sources are in the README's probe table (rendered from this one) and in
 * shared/research/captive-portal-notes.md §1.
 */

/** What the probe must get back to conclude "online". `app` = not a probe: a page the OS opens in a browser. */
export type OnlineAnswer =
  | { status: 200 | 204, type?: string, body?: string, headers?: Record<string, string> }
  | 'app'

export interface Probe {
  id: string
  /** Who sends it. */
  client: string
  hosts: readonly string[]
  /** Paths matched without trailing slash or query; `*` = every path on those hosts. */
  paths: readonly string[] | '*'
  /** A User-Agent the client really sends (tests replay it). */
  userAgent: string
  online: OnlineAnswer
  /** Where the entry comes from ([V] read in source or run, [R] reported). */
  source: string
}

const NO_CONTENT: OnlineAnswer = { status: 204 }
const APPLE_SUCCESS = '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>'
const NM_ONLINE = 'NetworkManager is online\n'
const nm = (body: string, status: 200 | 204 = 200): OnlineAnswer => status === 204
  ? { status, headers: { 'X-NetworkManager-Status': 'online' } }
  : { status, type: 'text/plain; charset=utf-8', body, headers: { 'X-NetworkManager-Status': 'online' } }

const ANDROID_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.32 Safari/537.36'
const DALVIK_UA = 'Dalvik/2.1.0 (Linux; U; Android 14; SM-S911B Build/UP1A.231005.007)'
const APPLE_UA = 'CaptiveNetworkSupport-481.100.2 wispr'
const NM_UA = 'NetworkManager/1.42.4'
const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

export const PROBES: readonly Probe[] = [
  {
    id: 'android',
    client: 'Android 7+ (AOSP NetworkMonitor), HTTP probe',
    hosts: ['connectivitycheck.gstatic.com'],
    paths: ['/generate_204'],
    userAgent: ANDROID_UA,
    online: NO_CONTENT,
    source: '[V] AOSP NetworkStack `res/values/config.xml` (`config_captive_portal_http_url`), `NetworkMonitor.java`: only 204 is "online"; a 3xx or a 200 page is a portal'
  },
  {
    id: 'android-fallback',
    client: 'Android fallback probes',
    hosts: ['www.google.com', 'play.googleapis.com'],
    paths: ['/gen_204', '/generate_204'],
    userAgent: ANDROID_UA,
    online: NO_CONTENT,
    source: '[V] AOSP NetworkStack `config.xml` (`config_captive_portal_fallback_urls`)'
  },
  {
    id: 'android-legacy',
    client: 'Older Android, Chrome, Google OEM builds',
    hosts: ['clients3.google.com', 'connectivitycheck.android.com', 'www.google.cn', 'g.cn'],
    paths: ['/generate_204'],
    userAgent: DALVIK_UA,
    online: NO_CONTENT,
    source: '[R] WBA captive-behavior `urls.md`; openNDS docs'
  },
  {
    id: 'samsung',
    client: 'Samsung (One UI)',
    hosts: ['d2uzsrnmmf6tds.cloudfront.net'],
    paths: ['/generate_204'],
    userAgent: DALVIK_UA,
    online: NO_CONTENT,
    source: '[R] WBA captive-behavior (Samsung Android); Samsung also probes the Google hosts above'
  },
  {
    id: 'android-oem',
    client: 'Huawei, Xiaomi, Amazon FireOS',
    hosts: ['connectivitycheck.platform.hicloud.com', 'connect.rom.miui.com', 'fireoscaptiveportal.com'],
    paths: ['/generate_204'],
    userAgent: DALVIK_UA,
    online: NO_CONTENT,
    source: '[R] cocong probe list, ConnectBox'
  },
  {
    id: 'chromeos',
    client: 'Chrome desktop / ChromeOS (shill)',
    hosts: ['www.gstatic.com'],
    paths: ['/generate_204'],
    userAgent: 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    online: NO_CONTENT,
    source: '[V] ChromiumOS shill `portal_detector.h` (`kDefaultHttpUrl`); its HTTPS probe still fails offline'
  },
  {
    id: 'apple',
    client: 'Apple iOS / iPadOS / macOS (CNA)',
    hosts: ['captive.apple.com', 'www.appleiphonecell.com', 'www.itools.info', 'www.ibook.info', 'www.airport.us', 'www.thinkdifferent.us', 'gsp1.apple.com', 'netcts.cdn-apple.com'],
    paths: '*',
    userAgent: APPLE_UA,
    online: { status: 200, type: 'text/html', body: APPLE_SUCCESS },
    source: '[R] WBA captive-behavior `ios.md`; offspot `platforms.py`, IIAB: hosts used only for probing answer "Success" on any path'
  },
  {
    id: 'apple-www',
    client: 'Apple iOS / macOS, legacy probe on Apple\'s web site',
    hosts: ['www.apple.com', 'apple.com'],
    paths: ['/library/test/success.html', '/hotspot-detect.html'],
    userAgent: APPLE_UA,
    online: { status: 200, type: 'text/html', body: APPLE_SUCCESS },
    source: '[R] WBA captive-behavior `ios.md`, Byzantium#100; other pages of www.apple.com go to the app'
  },
  {
    id: 'windows',
    client: 'Windows 10/11 NCSI',
    hosts: ['www.msftconnecttest.com', 'ipv6.msftconnecttest.com'],
    paths: ['/connecttest.txt'],
    userAgent: 'Microsoft NCSI',
    online: { status: 200, type: 'text/plain', body: 'Microsoft Connect Test' },
    source: '[R] LGiki `servers.json`, dnscrypt-proxy wiki "Windows NCSI", IIAB; needs DNS `dns.msftncsi.com` -> 131.107.255.255 as well'
  },
  {
    id: 'windows-legacy',
    client: 'Windows 7/8 NCSI',
    hosts: ['www.msftncsi.com', 'ipv6.msftncsi.com'],
    paths: ['/ncsi.txt'],
    userAgent: 'Microsoft NCSI',
    online: { status: 200, type: 'text/plain', body: 'Microsoft NCSI' },
    source: '[R] offspot `platforms.py`, IIAB'
  },
  {
    id: 'edge',
    client: 'Microsoft Edge',
    hosts: ['edge-http.microsoft.com', 'www.msftconnecttest.com'],
    paths: ['/captiveportal/generate_204'],
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
    online: NO_CONTENT,
    source: '[R] cocong probe list, Fortinet KB'
  },
  {
    id: 'windows-browser',
    client: 'Windows: the page NCSI opens in the default browser',
    hosts: ['www.msftconnecttest.com'],
    paths: ['/redirect'],
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
    online: 'app',
    source: '[R] notes §1 (Windows opens `http://www.msftconnecttest.com/redirect`)'
  },
  {
    id: 'firefox',
    client: 'Firefox captive portal service',
    hosts: ['detectportal.firefox.com'],
    paths: ['/canonical.html'],
    userAgent: FIREFOX_UA,
    online: { status: 200, type: 'text/html', body: '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>' },
    source: '[V] Firefox prefs `captivedetect.canonicalURL` / `captivedetect.canonicalContent`; `CaptiveDetect.jsm` `validateContent` compares the body for exact equality and follows no redirect'
  },
  {
    id: 'firefox-connectivity',
    client: 'Firefox connectivity service',
    hosts: ['detectportal.firefox.com'],
    paths: ['/success.txt'],
    userAgent: FIREFOX_UA,
    online: { status: 200, type: 'text/plain', body: 'success\n' },
    source: '[V] Firefox prefs `network.connectivity-service.IPv4.url` / `IPv6.url` (`?ipv4`, `?ipv6`)'
  },
  {
    id: 'nm-gnome',
    client: 'NetworkManager, GNOME default',
    hosts: ['nmcheck.gnome.org'],
    paths: ['/check_network_status.txt'],
    userAgent: NM_UA,
    online: nm(NM_ONLINE),
    source: '[V] NetworkManager.conf(5) 1.42; NM `nm-connectivity.c` (`HEADER_STATUS_ONLINE`): the header alone means FULL, else the body must start with `response`'
  },
  {
    id: 'nm-ubuntu',
    client: 'NetworkManager, Ubuntu',
    hosts: ['connectivity-check.ubuntu.com'],
    paths: ['/'],
    userAgent: NM_UA,
    online: nm('', 204),
    source: '[R] offspot `platforms.py`; packet captures of Ubuntu\'s server: 204 + `X-NetworkManager-Status: online`'
  },
  {
    id: 'nm-debian',
    client: 'NetworkManager, Debian',
    hosts: ['network-test.debian.org'],
    paths: ['/nm'],
    userAgent: NM_UA,
    online: nm(NM_ONLINE),
    source: '[V] NetworkManager.conf(5); notes §1 (`network-test.debian.org/nm`)'
  },
  {
    id: 'nm-kde',
    client: 'NetworkManager, KDE (neon, Plasma)',
    hosts: ['networkcheck.kde.org'],
    paths: ['/'],
    userAgent: NM_UA,
    online: nm('OK\n'),
    source: '[R] notes §1; the header alone satisfies NM whatever `response=` says'
  },
  {
    id: 'nm-fedora',
    client: 'NetworkManager, Fedora',
    hosts: ['fedoraproject.org'],
    paths: ['/static/hotspot.txt'],
    userAgent: NM_UA,
    online: nm('OK\n'),
    source: '[R] notes §1 (Fedora config `response=OK`)'
  },
  {
    id: 'nm-arch',
    client: 'NetworkManager, Arch Linux',
    hosts: ['ping.archlinux.org'],
    paths: ['/nm-check.txt'],
    userAgent: NM_UA,
    online: nm(NM_ONLINE),
    source: '[R] notes §1 (`networkmanager-connectivity-check` config)'
  }
]

/** Any host: `/generate_204`, `/gen_204` (OEM Android builds with their own hosts). */
export const GENERIC_204: Probe = {
  id: 'generic-204',
  client: 'Any host asked for /generate_204 or /gen_204 (unlisted Android OEMs)',
  hosts: [],
  paths: ['/generate_204', '/gen_204'],
  userAgent: DALVIK_UA,
  online: NO_CONTENT,
  source: '[V] offspot `platforms.py` answers these on every host'
}

/** Any host with Apple's probe agent. */
export const GENERIC_APPLE: Probe = {
  id: 'apple-agent',
  client: 'Apple probe agent on an unlisted host',
  hosts: [],
  paths: '*',
  userAgent: APPLE_UA,
  online: { status: 200, type: 'text/html', body: APPLE_SUCCESS },
  source: '[R] ConnectBox `views.py`: answer Apple by the `CaptiveNetworkSupport` agent, not by path'
}

const byHost = new Map<string, Probe[]>()
for (const p of PROBES) {
  for (const h of p.hosts) {
    const list = byHost.get(h) ?? []
    list.push(p)
    byHost.set(h, list)
  }
}

/** `/Foo/` -> `/foo`, `` -> `/`: probes are matched leniently. */
export function normalizeProbePath (path: string): string {
  let p = path.toLowerCase()
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1)
  return p === '' ? '/' : p
}

/** The probe a request to a foreign `host` (already normalized) is, or null. */
export function matchProbe (host: string, path: string, userAgent: string): Probe | null {
  const p = normalizeProbePath(path)
  for (const probe of byHost.get(host) ?? []) {
    if (probe.paths === '*' || probe.paths.includes(p)) return probe
  }
  if ((GENERIC_204.paths as readonly string[]).includes(p)) return GENERIC_204
  if (userAgent.includes('CaptiveNetworkSupport')) return GENERIC_APPLE
  return null
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, '\\n')

function describeOnline (a: OnlineAnswer): string {
  if (a === 'app') return '302 to the app (`http://<address>/`)'
  const parts = [String(a.status)]
  if (a.type !== undefined) parts.push(`\`Content-Type: ${a.type}\``)
  for (const [k, v] of Object.entries(a.headers ?? {})) parts.push(`\`${k}: ${v}\``)
  if (a.body !== undefined && a.body !== '') parts.push(`body \`${cell(a.body)}\``)
  else parts.push('empty body')
  return parts.join(', ')
}

/** The README's probe table (markdown), generated from PROBES. */
export function renderProbeTable (): string {
  const rows = [
    '| Client | Host(s) | Path | Online answer (after Continue) | Source |',
    '|---|---|---|---|---|'
  ]
  for (const p of [...PROBES, GENERIC_204, GENERIC_APPLE]) {
    const hosts = p.hosts.length === 0 ? (p === GENERIC_APPLE ? `any, agent \`CaptiveNetworkSupport…\`` : 'any') : p.hosts.map(h => `\`${h}\``).join(', ')
    const paths = p.paths === '*' ? 'any' : p.paths.map(x => `\`${x}\``).join(', ')
    rows.push(`| ${cell(p.client)} | ${hosts} | ${paths} | ${describeOnline(p.online)} | ${cell(p.source)} |`)
  }
  return rows.join('\n') + '\n'
}
