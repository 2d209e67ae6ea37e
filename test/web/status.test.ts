import t from 'tap'
import { launchBrowser, phone, startNode } from '../helpers/browser.js'

// The app opens its WebSocket before the first render, and components subscribe to state changes
// in an effect, which Preact runs after the next frame. A socket that opened in between used to
// leave the header at "Connecting…" for good on a quiet node (nothing else re-rendered it): the
// known flake of stories.test.ts under load. Frames are slowed down here so that the socket
// always opens first (Preact runs effects on the next animation frame, or after 100 ms at most).
t.test('the header says Connected even when the socket opens before the components subscribe', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)
  const P = await phone(browser)
  await P.page.addInitScript(`{
    const st = window.setTimeout
    window.setTimeout = (f, d, ...a) => st(f, d === 100 ? 1500 : d, ...a)
    window.requestAnimationFrame = cb => st(() => cb(performance.now()), 1500)
  }`)
  const failed: string[] = []
  P.page.on('console', m => { if (m.type() === 'error') failed.push(m.text()) })
  await P.page.goto(base)
  await P.page.getByTestId('status').getByText('Connected').waitFor({ timeout: 5000 })
  t.pass('connected')
  t.same(P.problems, [], 'no page errors or CSP violations')
  t.same(failed, [], 'no console errors (the browser asks for no /favicon.ico, which would be a 404)')
})
