import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import path from 'node:path'
import { MacResolver, parseArp, parseLeases } from '../../node/src/portal/mac.js'
import { CLIENTS_FILE } from '../../node/src/portal/portal.js'
import { startPortalNode, tempDir } from './portal-helpers.js'

const ARP = `IP address       HW type     Flags       HW address            Mask     Device
10.42.0.23       0x1         0x2         3a:7F:11:22:33:44     *        wlan0
10.42.0.24       0x1         0x0         00:00:00:00:00:00     *        wlan0
10.42.0.25       0x1         0x6         de:ad:be:ef:00:01     *        wlan0
garbage
`
const LEASES = `1795300000 3a:7f:11:22:33:99 10.42.0.30 pixel-8 01:3a:7f:11:22:33:99
1795300001 aa:bb:cc:dd:ee:ff 10.42.0.31 * *
duid 00:01:00:01:2c:1f:aa:bb:cc:dd:ee:ff
1795300002 1234 fd00::31 * 00:01:00:01:2c:1f
`

t.test('ARP table and dnsmasq leases parse to ip -> mac', async t => {
  t.same([...parseArp(ARP)], [['10.42.0.23', '3a:7f:11:22:33:44'], ['10.42.0.25', 'de:ad:be:ef:00:01']], 'incomplete entries skipped')
  t.same([...parseLeases(LEASES)], [['10.42.0.30', '3a:7f:11:22:33:99'], ['10.42.0.31', 'aa:bb:cc:dd:ee:ff']], 'DUID lines skipped')
  t.same([...parseArp('')], [])
})

t.test('MacResolver: ARP first, then the leases file, loopback never', async t => {
  const dir = await tempDir(t)
  const arpFile = path.join(dir, 'arp')
  const leasesFile = path.join(dir, 'leases')
  await writeFile(arpFile, ARP)
  await writeFile(leasesFile, LEASES)
  const r = new MacResolver({ arpFile, leasesFile, ipNeigh: false })
  t.equal(await r.lookup('10.42.0.23'), '3a:7f:11:22:33:44')
  t.equal(await r.lookup('10.42.0.30'), '3a:7f:11:22:33:99', 'from the leases')
  t.equal(await r.lookup('10.42.0.24'), null)
  t.equal(await r.lookup('127.0.0.1'), null)
  t.equal(await r.lookup(''), null)
  const none = new MacResolver({ arpFile: path.join(dir, 'nope'), leasesFile: path.join(dir, 'nope'), ipNeigh: false })
  t.equal(await none.lookup('10.42.0.23'), null, 'missing tables are "unknown", not an error')
})

// A phone on a veth link in a network namespace of our own: the node learns its MAC from the
// kernel's real ARP table and keys its acceptance on it.
t.test('a phone in a network namespace is keyed by its MAC', async t => {
  const sh = (...args: string[]): string => execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8' })
  const id = `op${process.pid % 100000}`
  const ns = `${id}-phone`
  const net = `10.213.${process.pid % 250}`
  try {
    sh('ip', 'netns', 'add', ns)
  } catch (err) {
    t.plan(0, `skip: cannot create a network namespace here: ${(err as Error).message.split('\n')[0] ?? ''}`)
    return
  }
  t.teardown(() => {
    try { sh('ip', 'netns', 'del', ns) } catch {}
    try { sh('ip', 'link', 'del', `${id}a`) } catch {}
  })
  sh('ip', 'link', 'add', `${id}a`, 'type', 'veth', 'peer', 'name', `${id}b`)
  sh('ip', 'link', 'set', `${id}b`, 'netns', ns)
  sh('ip', 'addr', 'add', `${net}.1/29`, 'dev', `${id}a`)
  sh('ip', 'link', 'set', `${id}a`, 'up')
  sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/29`, 'dev', `${id}b`)
  sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', `${id}b`, 'up')
  sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
  const phoneMac = (JSON.parse(sh('ip', 'netns', 'exec', ns, 'ip', '-j', 'link', 'show', `${id}b`)) as Array<{ address: string }>)[0]?.address
  t.match(phoneMac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/)

  const dir = await tempDir(t)
  const leases = path.join(dir, 'dnsmasq.leases')
  await writeFile(leases, '')
  const node = await startPortalNode(t, ['--host', `${net}.1`, '--portal-leases', leases])
  const url = (host: string, p: string): string[] => ['--connect-to', `${host}:80:${net}.1:${node.port}`, `http://${host}${p}`]
  const curl = async (...args: string[]): Promise<string> => await new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', ...args], (err, out) => { err !== null ? reject(err) : resolve(out) })
  })

  t.equal(await curl(...url('connectivitycheck.gstatic.com', '/generate_204')), `302 http://${net}.1:${node.port}/portal/`, 'captive; the portal address is the link address')
  t.equal(await curl('-X', 'POST', '-d', '', `http://${net}.1:${node.port}/portal/continue`), `303 http://${net}.1:${node.port}/`, 'Continue')
  t.equal(await curl(...url('connectivitycheck.gstatic.com', '/generate_204')), '204 ', 'online')
  await node.portal?.clients.flush()
  const saved = JSON.parse(await readFile(path.join(node.dataDir, CLIENTS_FILE), 'utf8')) as { clients: Array<[string, number]> }
  t.same(saved.clients.map(c => c[0]), [`mac:${phoneMac}`], 'keyed by the phone\'s MAC')

  // a new lease: same phone, new address; still accepted
  sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'del', `${net}.2/29`, 'dev', `${id}b`)
  sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.3/29`, 'dev', `${id}b`)
  t.equal(await curl(...url('captive.apple.com', '/hotspot-detect.html')), '200 ', 'online from its new address at once')
  // another phone (a second namespace on the same link would do; the host itself is one)
  const other = await new Promise<number>((resolve, reject) => {
    const req = request({ host: `${net}.1`, port: node.port, path: '/generate_204', headers: { Host: 'connectivitycheck.gstatic.com' }, localAddress: `${net}.1` }, res => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end()
  })
  t.equal(other, 302, 'a client with another identity is still captive')
})
