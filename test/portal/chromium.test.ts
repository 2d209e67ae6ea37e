import t from 'tap'
import { chromium, type Browser, type Page, type Response } from 'playwright-core'
import { startPortalNode } from './portal-helpers.js'

// Chromium with every host name resolved to the node, as the hotspot's DNS does.
async function launch (port: number): Promise<Browser> {
  return await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      `--host-resolver-rules=MAP * 127.0.0.1:${port}`,
      // no https:// attempt first for plain http:// navigations: the hotspot has no TLS
      '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable'
    ]
  })
}

/** The main-frame response of a navigation; 204s do not commit, so catch the response itself. */
async function probe (page: Page, url: string): Promise<Response> {
  const seen = page.waitForResponse(r => r.url() === url, { timeout: 10_000 })
  await page.goto(url).catch(() => {})
  return await seen
}

t.test('a phone\'s browser: probe -> splash -> Continue -> the app, then the probes answer online', async t => {
  const node = await startPortalNode(t, [
    '--portal-address', 'node.home.arpa',
    '--portal-port', '80',
    '--portal-title', 'Camp North',
    '--portal-text', 'Meet at the big tent at 8.'
  ])
  const browser = await launch(node.port)
  t.teardown(() => browser.close())
  const page = await browser.newPage()

  // the sign-in sheet opens the probe URL and follows the redirect to the splash
  const first = await page.goto('http://connectivitycheck.gstatic.com/generate_204')
  t.equal(first?.status(), 200)
  t.equal(page.url(), 'http://node.home.arpa/portal/')
  t.equal(await page.textContent('h1'), 'Camp North')
  t.match(await page.textContent('main'), 'Meet at the big tent at 8.')
  t.equal(await page.getAttribute('link[rel=stylesheet]', 'href'), '/portal/splash.css')
  t.equal(await page.evaluate('getComputedStyle(document.querySelector("button")).backgroundColor'), 'rgb(31, 111, 80)', 'the stylesheet applies under the CSP')

  // still captive: Apple's and Windows' probes land on the splash too
  await page.goto('http://captive.apple.com/hotspot-detect.html')
  t.equal(page.url(), 'http://node.home.arpa/portal/')
  await page.goto('http://www.msftconnecttest.com/redirect')
  t.equal(page.url(), 'http://node.home.arpa/portal/')
  t.equal((await probe(page, 'http://connectivitycheck.gstatic.com/generate_204')).status(), 302)

  // tap Continue: a real form POST and a full page load of the app
  await page.goto('http://node.home.arpa/portal/')
  const [nav] = await Promise.all([
    page.waitForNavigation({ url: 'http://node.home.arpa/' }),
    page.click('button[type=submit]')
  ])
  t.equal(nav?.status(), 200)
  t.equal(nav?.request().redirectedFrom()?.method(), 'POST', 'reached through the POST')
  t.equal(nav?.request().redirectedFrom()?.url(), 'http://node.home.arpa/portal/continue')
  t.match(await page.content(), /<html/)
  t.match(nav?.headers()['content-type'], /^text\/html/)

  // online now, in the same browser
  const android = await probe(page, 'http://connectivitycheck.gstatic.com/generate_204')
  t.equal(android.status(), 204)
  await page.goto('http://captive.apple.com/hotspot-detect.html')
  t.equal(await page.title(), 'Success')
  t.equal(await page.textContent('body'), 'Success')
  await page.goto('http://www.msftconnecttest.com/connecttest.txt')
  t.equal(await page.textContent('body'), 'Microsoft Connect Test')
  await page.goto('http://detectportal.firefox.com/success.txt?ipv4')
  t.equal(await page.textContent('body'), 'success\n')
  // a typed address lands in the app
  await page.goto('http://example.com/some/page')
  t.equal(page.url(), 'http://node.home.arpa/')
  // the splash now says so
  await page.goto('http://node.home.arpa/portal/')
  t.match(await page.textContent('main'), 'You are connected.')
})
