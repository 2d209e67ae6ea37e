import t from 'tap'
import { ensureBuilt } from '../helpers/node-process.js'
import { IS_ROOT, ip, makeSites, spawnIn } from './netns.js'

// The monitor runs in a child process inside a namespace made here; the "internet" (a hyperdht
// testnet) in a second one, reachable only through the site's default route.
t.test('UplinkMonitor in a network namespace: route, access point, DHT answering', { skip: !IS_ROOT && 'needs root (ip netns)' }, async t => {
  ensureBuilt()
  const net = makeSites(t)
  const bootstrap = [{ host: net.dhtHost, port: 49737 }]
  // The access point: an interface the monitor is told to ignore (a veth: no dummy module here)
  ip('-n', net.site, 'link', 'add', 'ap0', 'type', 'veth', 'peer', 'name', 'ap0peer')
  ip('-n', net.site, 'link', 'set', 'ap0peer', 'up')
  ip('-n', net.site, 'addr', 'add', '10.215.0.1/24', 'dev', 'ap0')
  ip('-n', net.site, 'link', 'set', 'ap0', 'up')

  const site = spawnIn(t, net.site, 'site.mjs', { bootstrap, apInterface: 'ap0', intervalMs: 300, probeTimeoutMs: 300 })
  const started = await site.waitFor(e => e.event === 'started', 10000, 'start', 0)
  t.same(started, { event: 'started', state: 'offline', check: { routes: [], uplinks: [], probe: 'skipped' } }, 'no default route: offline, nothing probed')

  // A default route through the access point is not an uplink
  ip('-n', net.site, 'route', 'add', 'default', 'dev', 'ap0')
  site.send('check')
  t.same(await site.waitFor(e => e.event === 'check', 5000, 'check'),
    { event: 'check', state: 'offline', check: { routes: ['ap0'], uplinks: [], probe: 'skipped' } }, 'default route via the AP: offline, nothing probed')
  ip('-n', net.site, 'route', 'del', 'default', 'dev', 'ap0')

  // A route, but the DHT does not answer (nothing listens yet)
  net.addDefaultRoute()
  site.send('check')
  t.same(await site.waitFor(e => e.event === 'check', 5000, 'check'),
    { event: 'check', state: 'offline', check: { routes: [net.siteIf], uplinks: [net.siteIf], probe: 'failed' } }, 'route but no DHT: offline')

  // The DHT comes up behind the route: online
  let t0 = Date.now()
  const online = site.waitFor(e => e.event === 'state' && e.state === 'online', 10000, 'online')
  const inet = spawnIn(t, net.inet, 'internet.mjs', { host: net.dhtHost })
  const ready = await inet.waitFor(e => e.event === 'ready', 15000, 'testnet', 0)
  t.same(ready.bootstrap, bootstrap, 'testnet bootstrap where the site looks for it')
  t.same((await online).check, { routes: [net.siteIf], uplinks: [net.siteIf], probe: 'ok' }, 'online once the bootstrap answers')
  t.comment(`online ${Date.now() - t0} ms after the DHT started`)

  // Route removed: offline at the next poll; back: online (flapping)
  for (let round = 1; round <= 2; round++) {
    t0 = Date.now()
    const offline = site.waitFor(e => e.event === 'state' && e.state === 'offline', 5000, 'offline')
    net.delDefaultRoute()
    t.same((await offline).check, { routes: [], uplinks: [], probe: 'skipped' }, `round ${round}: route gone, offline`)
    t.comment(`round ${round}: offline ${Date.now() - t0} ms after the route went`)
    t0 = Date.now()
    const back = site.waitFor(e => e.event === 'state' && e.state === 'online', 5000, 'online')
    net.addDefaultRoute()
    await back
    t.comment(`round ${round}: online ${Date.now() - t0} ms after the route came back`)
  }

  // The DHT dies behind a live route: offline after two failed probes in a row
  t0 = Date.now()
  const lost = site.waitFor(e => e.event === 'state' && e.state === 'offline', 10000, 'offline')
  inet.proc.kill('SIGTERM')
  t.same((await lost).check, { routes: [net.siteIf], uplinks: [net.siteIf], probe: 'failed' }, 'DHT gone: offline')
  t.comment(`offline ${Date.now() - t0} ms after the DHT stopped`)

  const complaints = site.logs().filter(l => l.level >= 40)
  t.same(complaints, [], 'no warnings or errors from the monitor')
  const transitions = site.logs().filter(l => l.msg === 'uplink online' || l.msg === 'uplink offline').length
  t.equal(transitions, 6, 'one log line per transition')
})
