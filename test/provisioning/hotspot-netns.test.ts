// The generated dnsmasq config and nftables table, run for real between two network namespaces
// this test creates (a "node" and a "phone" joined by a veth pair on a private test subnet).
// No traffic leaves them: the "foreign" address 198.51.100.7 (TEST-NET-2) is only ever routed
// to the node namespace.
import t, { type Test } from 'tap'
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PROVISION, runScript, tempDir } from './run-script.js'

const exec = promisify(execFile)
const tool = (name: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}
const missing = ['ip', 'dnsmasq', 'nft', 'dhclient', 'dig', 'curl'].filter(n => tool(n) === null)
const skip = process.getuid?.() !== 0
  ? 'needs root to create network namespaces'
  : missing.length > 0 ? `missing tools: ${missing.join(', ')}` : false

const NODE_IP = '10.231.47.1'
const FOREIGN = '198.51.100.7'
const PORT = 18080
const CLOSED_PORT = 19999

interface Netns { srv: string, cli: string, srvIf: string, cliIf: string }

async function ns (name: string, ...cmd: string[]): Promise<string> {
  const { stdout } = await exec('ip', ['netns', 'exec', name, ...cmd], { timeout: 15000 })
  return stdout
}

/** Two namespaces joined by a veth pair; removed when the test ends, whatever happens. */
async function makeNetns (t: Test): Promise<Netns> {
  const id = randomBytes(3).toString('hex')
  const n: Netns = { srv: `opv-${id}-node`, cli: `opv-${id}-phone`, srvIf: `opvs${id}`, cliIf: `opvc${id}` }
  t.teardown(() => {
    for (const name of [n.srv, n.cli]) spawnSync('ip', ['netns', 'delete', name])
  })
  await exec('ip', ['netns', 'add', n.srv])
  await exec('ip', ['netns', 'add', n.cli])
  await exec('ip', ['link', 'add', n.srvIf, 'netns', n.srv, 'type', 'veth', 'peer', 'name', n.cliIf, 'netns', n.cli])
  await ns(n.srv, 'ip', 'link', 'set', 'lo', 'up')
  await ns(n.cli, 'ip', 'link', 'set', 'lo', 'up')
  await ns(n.srv, 'ip', 'address', 'add', `${NODE_IP}/24`, 'dev', n.srvIf)
  await ns(n.srv, 'ip', 'link', 'set', n.srvIf, 'up')
  return n
}

/** Spawns a long-running process, killed at teardown; resolves once `ready` shows in its output. */
async function daemon (t: Test, cmd: string[], ready: RegExp): Promise<{ proc: ChildProcess, output: () => string }> {
  const proc = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited }
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${cmd.join(' ')} not ready after 15 s:\n${out}`)) }, 15000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      if (ready.test(out)) { clearTimeout(timer); resolve() }
    }
    proc.stdout?.on('data', onData)
    proc.stderr?.on('data', onData)
    exited.then(() => { clearTimeout(timer); reject(new Error(`${cmd.join(' ')} exited:\n${out}`)) }, () => {})
  })
  return { proc, output: () => out }
}

async function curl (n: Netns, url: string, maxTime = 5): Promise<{ code: number, body: string, ms: number }> {
  const started = process.hrtime.bigint()
  try {
    const { stdout } = await exec('ip', ['netns', 'exec', n.cli, 'curl', '-sS', '-k', '--max-time', String(maxTime), url], { timeout: 10000 })
    return { code: 0, body: stdout, ms: Number(process.hrtime.bigint() - started) / 1e6 }
  } catch (err) {
    const e = err as { code?: number }
    return { code: e.code ?? -1, body: '', ms: Number(process.hrtime.bigint() - started) / 1e6 }
  }
}

t.test('a phone gets address, router, DNS and option 114 from the generated dnsmasq; every name is the node; nft redirects 80 and resets 443', { skip }, async t => {
  const dir = tempDir(t, 'netns')
  const root = join(dir, 'root')
  const n = await makeNetns(t)

  const r = await runScript(PROVISION, ['--yes', '--country', 'DE', '--node-bin', process.execPath, '--root', root,
    '--interface', n.srvIf, '--address', `${NODE_IP}/24`, '--port', String(PORT)])
  t.equal(r.code, 0, r.stderr)

  // the firewall table first, so DHCP and DNS are shown to pass it
  await ns(n.srv, 'nft', '-f', join(root, 'etc/outpost/outpost.nft'))
  t.match(await ns(n.srv, 'nft', 'list', 'table', 'inet', 'outpost'), /redirect to :18080/, 'table loaded in the node namespace')
  // loading it twice is fine (delete-then-add), as outpost-nft.service does on reload
  await ns(n.srv, 'nft', '-f', join(root, 'etc/outpost/outpost.nft'))

  // the generated dnsmasq config, with only its pid and lease paths moved into the temp dir
  const leases = join(dir, 'dnsmasq.leases')
  const conf = join(dir, 'dnsmasq.conf')
  writeFileSync(conf, readFileSync(join(root, 'etc/outpost/dnsmasq.conf'), 'utf8')
    .replace(/^pid-file=.*$/m, `pid-file=${join(dir, 'dnsmasq.pid')}`)
    .replace(/^dhcp-leasefile=.*$/m, `dhcp-leasefile=${leases}`))
  await daemon(t, ['ip', 'netns', 'exec', n.srv, 'dnsmasq', '--keep-in-foreground', '--log-facility=-', `--conf-file=${conf}`], /DHCP, IP range/)

  // dhclient from a copy of the binary (Debian's AppArmor profile pins its script path), with a
  // script that records the options and configures the address it was given
  const dhclient = join(dir, 'dhclient')
  copyFileSync(tool('dhclient') as string, dhclient)
  chmodSync(dhclient, 0o755)
  const got = join(dir, 'got.env')
  const script = join(dir, 'dhclient-script')
  writeFileSync(script, `#!/bin/sh
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip address add "$new_ip_address/$new_subnet_mask" dev "$interface" 2>/dev/null || true
    ip route replace default via "$new_routers" dev "$interface"
    { echo "ip=$new_ip_address"; echo "mask=$new_subnet_mask"; echo "routers=$new_routers"
      echo "dns=$new_domain_name_servers"; echo "captive=$new_captive_portal"; } > "${got}.tmp"
    mv "${got}.tmp" "${got}" ;;
esac
exit 0
`)
  chmodSync(script, 0o755)
  const dhconf = join(dir, 'dhclient.conf')
  writeFileSync(dhconf, 'option captive-portal code 114 = text;\nrequest subnet-mask, routers, domain-name-servers, captive-portal;\ntimeout 20;\n')
  const lease = join(dir, 'dhclient.leases')
  await daemon(t, ['ip', 'netns', 'exec', n.cli, dhclient, '-d', '-1', '-v', '-cf', dhconf, '-sf', script, '-lf', lease,
    '-pf', join(dir, 'dhclient.pid'), n.cliIf], /bound to/)

  const env = Object.fromEntries(readFileSync(got, 'utf8').trim().split('\n').map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const last = Number(String(env.ip).split('.')[3])
  t.match(env.ip, /^10\.231\.47\.\d+$/, `address ${String(env.ip)}`)
  t.ok(last >= 20 && last <= 250, 'inside the DHCP range')
  t.equal(env.mask, '255.255.255.0')
  t.equal(env.routers, NODE_IP, 'router = the node (phones need a gateway to run their probes)')
  t.equal(env.dns, NODE_IP, 'DNS = the node')
  t.equal(env.captive, `http://${NODE_IP}/api/captive`, 'DHCP option 114 (RFC 8910)')
  t.match(readFileSync(lease, 'utf8'), `option captive-portal "http://${NODE_IP}/api/captive";`, 'dhclient\'s own lease file agrees')
  t.match(readFileSync(leases, 'utf8'), String(env.ip), 'the lease is in dnsmasq\'s lease file, where the node can read it')

  // DNS: every name is the node, over UDP and TCP; Windows' check gets its expected address
  for (const name of ['example.com', 'connectivitycheck.gstatic.com', 'captive.apple.com', 'anything.at.all', 'outpost.home.arpa']) {
    t.equal((await ns(n.cli, 'dig', '+short', '+time=2', '+tries=2', `@${NODE_IP}`, name)).trim(), NODE_IP, `${name} -> the node`)
  }
  t.equal((await ns(n.cli, 'dig', '+short', '+tcp', '+time=2', '+tries=2', `@${NODE_IP}`, 'example.org')).trim(), NODE_IP, 'DNS over TCP passes the firewall too')
  t.equal((await ns(n.cli, 'dig', '+short', '+time=2', '+tries=2', `@${NODE_IP}`, 'dns.msftncsi.com')).trim(), '131.107.255.255', 'Windows NCSI DNS check')

  // a stand-in for the node on its port, and a service on a port the node does not serve
  const server = (port: number, text: string): string[] => ['ip', 'netns', 'exec', n.srv, process.execPath, '-e',
    `require('http').createServer((q, s) => s.end(${JSON.stringify(text)} + ' ' + q.headers.host)).listen(${port}, '0.0.0.0', () => console.log('up'))`]
  await daemon(t, server(PORT, 'outpost'), /up/)
  await daemon(t, server(CLOSED_PORT, 'other'), /up/)

  const foreign = await curl(n, `http://${FOREIGN}/generate_204`)
  t.equal(foreign.code, 0, 'http to a foreign address works...')
  t.equal(foreign.body, `outpost ${FOREIGN}`, '...and lands on the node, Host header intact')
  t.equal((await curl(n, `http://${NODE_IP}/`)).body, `outpost ${NODE_IP}`, 'port 80 on the node -> the node\'s port')
  t.equal((await curl(n, `http://${NODE_IP}:${PORT}/`)).body, `outpost ${NODE_IP}:${PORT}`, 'the node\'s port directly')

  const https = await curl(n, `https://${FOREIGN}/`)
  t.equal(https.code, 7, 'https to a foreign address: connection refused (tcp reset)')
  t.ok(https.ms < 1000, `refused at once (${https.ms.toFixed(1)} ms), not after a timeout`)

  t.equal((await curl(n, `http://${NODE_IP}:${CLOSED_PORT}/`)).code, 7, 'a port the node does not serve is closed to Wi-Fi clients')
  t.match(await ns(n.srv, 'curl', '-sS', `http://127.0.0.1:${CLOSED_PORT}/`), /^other/, '(while it is open on the node itself)')

  // and the table comes out cleanly, as outpost-nft.service's ExecStop does
  await ns(n.srv, 'nft', 'delete', 'table', 'inet', 'outpost')
  t.equal((await curl(n, `http://${NODE_IP}:${CLOSED_PORT}/`)).body, `other ${NODE_IP}:${CLOSED_PORT}`, 'without the table the port is reachable: the table did the closing')
  t.equal((await curl(n, `https://${FOREIGN}/`, 2)).code, 28, 'and https to a foreign address just hangs (curl timeout): the table made it fail fast')
})
