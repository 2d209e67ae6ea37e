import t, { type Test } from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BIN, ROOT, ensureBuilt } from '../helpers/node-process.js'
import { parseKeyfile, checkApKeyfile, checkJoinKeyfile } from './keyfile.js'
import { BASE_ARGS, PROVISION, UNINSTALL, runScript, snapshot, tempDir } from './run-script.js'

const exec = promisify(execFile)
const isRoot = process.getuid?.() === 0

/** Runs a validator; resolves its exit code and output instead of throwing. */
async function check (cmd: string, args: string[]): Promise<{ code: number, out: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { timeout: 20000 })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code?: number, stdout?: string, stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

// nft -c needs CAP_NET_ADMIN: as root directly, otherwise in a user+net namespace of its own
const nftCheck = async (file: string): Promise<{ code: number, out: string }> =>
  isRoot ? await check('nft', ['-c', '-f', file]) : await check('unshare', ['-rn', 'nft', '-c', '-f', file])

const hasTool = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0

const SSID = 'Süd "q" $(touch /tmp/opw) ;\\x'
const PASSPHRASE = ' pass\\word with spaces '

async function renderHotspot (t: Test, extra: string[] = []): Promise<{ root: string, stdout: string }> {
  const root = tempDir(t, 'render')
  const community = join(root, '..', `${root.split('/').pop() ?? 'x'}-community.json`)
  writeFileSync(community, '{"name":"test community","secret":"not-for-everyone"}\n')
  t.teardown(() => { spawnSync('rm', ['-f', community]) })
  const r = await runScript(PROVISION, [...BASE_ARGS, '--root', root, '--ssid', SSID, '--passphrase', PASSPHRASE,
    '--community', community, '--admin-password', 'correct horse battery', '--hostname', 'camp-1', ...extra])
  t.equal(r.code, 0, `provision.sh renders (stderr: ${r.stderr})`)
  return { root, stdout: r.stdout }
}

t.test('every generated file passes the real tool that reads it', async t => {
  const { root } = await renderHotspot(t)
  const etc = join(root, 'etc')

  const dns = await check('dnsmasq', ['--test', `--conf-file=${join(etc, 'outpost', 'dnsmasq.conf')}`])
  t.equal(dns.code, 0, `dnsmasq --test: ${dns.out.trim()}`)
  t.match(dns.out, /syntax check OK/)

  const nft = await nftCheck(join(etc, 'outpost', 'outpost.nft'))
  t.equal(nft.code, 0, `nft -c -f: ${nft.out.trim()}`)

  for (const unit of ['outpost.service', 'outpost-dnsmasq.service', 'outpost-nft.service', 'outpost-firstboot.service']) {
    const path = join(etc, 'systemd', 'system', unit)
    const v = await check('systemd-analyze', ['verify', path])
    t.equal(v.code, 0, `systemd-analyze verify ${unit}: ${v.out.trim()}`)
    t.equal(v.out.trim(), '', `${unit}: no warnings`)
    t.notMatch(readFileSync(path, 'utf8'), /@[A-Z]+@/, `${unit}: every placeholder filled`)
  }

  // the node itself validates its config file against its schema
  ensureBuilt()
  const cfg = await check(process.execPath, [BIN, 'config', '--config', join(etc, 'outpost', 'config.json')])
  t.equal(cfg.code, 0, `outpost config accepts config.json: ${cfg.out.slice(0, 300)}`)
  const effective = JSON.parse(cfg.out) as Record<string, unknown>
  t.match(effective, { host: '0.0.0.0', port: 8080, dataDir: '/var/lib/outpost', role: 'hotspot', name: SSID, community: '/etc/outpost/community.json', lan: true, swarm: 'auto', syncPort: 7707 })
  t.equal(effective.adminPasswordFile, '/etc/outpost/admin-password.scrypt', 'the node reads the admin password hash provisioning wrote')
  t.match(effective, { portal: { address: '10.42.0.1', port: 80, hostnames: ['camp-1.home.arpa'], leasesFile: '/var/lib/outpost-dnsmasq/dnsmasq.leases' } }, 'the portal sends phones to port 80 of the node and reads our dnsmasq\'s leases')

  // NetworkManager keyfile: nmcli --offline needs the network-manager package, which CI and
  // this machine must not install (it starts a service that takes over the network), so the
  // keyfile is checked by a GLib keyfile parser against NetworkManager's settings instead
  const keyfile = readFileSync(join(etc, 'NetworkManager', 'system-connections', 'outpost-ap.nmconnection'), 'utf8')
  const problems = checkApKeyfile(parseKeyfile(keyfile), { ssid: SSID, psk: PASSPHRASE, address: '10.42.0.1/24', iface: 'wlan0' })
  t.same(problems, [], 'the AP keyfile is what NetworkManager expects')
  if (hasTool('nmcli')) {
    const nm = await check('sh', ['-c', `nmcli --offline connection modify connection.autoconnect yes < '${join(etc, 'NetworkManager', 'system-connections', 'outpost-ap.nmconnection')}'`])
    t.equal(nm.code, 0, `nmcli --offline accepts the keyfile: ${nm.out}`)
  }
  t.notOk(existsSync('/tmp/opw'), 'no value was ever run as a command')
})

t.test('the validators do fail on broken files (negative controls)', async t => {
  const { root } = await renderHotspot(t)
  const outpost = join(root, 'etc', 'outpost')
  const broken = join(root, 'broken')

  writeFileSync(broken, readFileSync(join(outpost, 'dnsmasq.conf'), 'utf8').replace(/^dhcp-range=.*$/m, 'dhcp-range=bogus'))
  t.not((await check('dnsmasq', ['--test', `--conf-file=${broken}`])).code, 0, 'dnsmasq --test rejects a bad dhcp-range')

  writeFileSync(broken, readFileSync(join(outpost, 'outpost.nft'), 'utf8').replace('redirect to :8080', 'redirect to :eighty'))
  t.not((await nftCheck(broken)).code, 0, 'nft -c rejects a bad redirect')

  const unit = join(root, 'broken.service')
  writeFileSync(unit, readFileSync(join(root, 'etc', 'systemd', 'system', 'outpost.service'), 'utf8').replace(process.execPath, '/nonexistent/node'))
  t.not((await check('systemd-analyze', ['verify', unit])).code, 0, 'systemd-analyze rejects a missing ExecStart binary')

  const keyfile = readFileSync(join(root, 'etc', 'NetworkManager', 'system-connections', 'outpost-ap.nmconnection'), 'utf8')
  const bad = checkApKeyfile(parseKeyfile(keyfile.replace('method=manual', 'method=shared')), { ssid: SSID, psk: PASSPHRASE, address: '10.42.0.1/24', iface: 'wlan0' })
  t.ok(bad.length > 0, `the keyfile check rejects ipv4.method=shared (${bad.join('; ')})`)
})

t.test('hostapd mode: hostapd parses the config without errors', { skip: hasTool('hostapd') ? false : 'hostapd not installed' }, async t => {
  // an interface that cannot exist here, so hostapd stops at driver init after parsing
  const { root } = await renderHotspot(t, ['--ap', 'hostapd', '--interface', 'outpostnone0'])
  const etc = join(root, 'etc')
  t.notOk(existsSync(join(etc, 'NetworkManager', 'system-connections', 'outpost-ap.nmconnection')), 'no NetworkManager profile in hostapd mode')
  t.match(readFileSync(join(etc, 'NetworkManager', 'conf.d', '90-outpost-unmanaged.conf'), 'utf8'), /unmanaged-devices=interface-name:outpostnone0/)
  const conf = readFileSync(join(etc, 'outpost', 'hostapd.conf'), 'utf8')
  t.equal(statSync(join(etc, 'outpost', 'hostapd.conf')).mode & 0o777, 0o600, 'hostapd.conf holds the passphrase: 0600')
  t.match(conf, `ssid2=${Buffer.from(SSID).toString('hex')}`)
  t.match(conf, `wpa_passphrase=${PASSPHRASE}\n`)

  // the control socket goes to a temp dir instead of /run
  const copy = join(root, 'hostapd-test.conf')
  writeFileSync(copy, conf.replace(/^ctrl_interface=.*$/m, `ctrl_interface=${join(root, 'ctrl')}`))
  const run = await check('timeout', ['10', 'hostapd', copy])
  t.match(run.out, /Failed to initialize driver|interface state/, 'hostapd parsed the whole file and went on to the driver')
  t.notMatch(run.out, /unknown configuration item|errors found|Invalid|failed to parse/i, `hostapd found no error in it: ${run.out.trim()}`)

  writeFileSync(copy, conf.replace(/^ctrl_interface=.*$/m, `ctrl_interface=${join(root, 'ctrl')}`) + 'bogus_item=1\n')
  t.match((await check('timeout', ['10', 'hostapd', copy])).out, /errors found/, 'negative control: hostapd reports an unknown item')

  const unit = join(etc, 'systemd', 'system', 'outpost-hostapd.service')
  const v = await check('systemd-analyze', ['verify', unit])
  t.equal(v.code, 0, `systemd-analyze verify outpost-hostapd.service: ${v.out}`)
})

t.test('secrets are readable by root and the service user only', async t => {
  const { root } = await renderHotspot(t)
  const mode = (p: string): number => statSync(join(root, p)).mode & 0o777
  t.equal(mode('etc/outpost/community.json'), 0o640, 'community file 0640 (root:outpost)')
  t.equal(mode('etc/outpost/admin-password.scrypt'), 0o640, 'admin password hash 0640 (root:outpost)')
  t.equal(mode('etc/outpost/config.json'), 0o640, 'node config 0640 (root:outpost)')
  t.equal(mode('etc/outpost/secrets.conf'), 0o600, 'Wi-Fi passphrase copy 0600 root')
  t.equal(mode('etc/NetworkManager/system-connections/outpost-ap.nmconnection'), 0o600, 'NetworkManager requires 0600 for its keyfile')
  t.equal(readFileSync(join(root, 'etc/outpost/community.json'), 'utf8'), '{"name":"test community","secret":"not-for-everyone"}\n', 'community file copied byte for byte')

  const hash = readFileSync(join(root, 'etc/outpost/admin-password.scrypt'), 'utf8').trim()
  t.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'stored as an scrypt hash')
  t.notMatch(hash, /correct horse/, 'not the password')
  const [, n, r, p, salt, want] = hash.split('$')
  const { scryptSync } = await import('node:crypto')
  const got = scryptSync('correct horse battery', Buffer.from(salt ?? '', 'base64'), 32, { N: Number(n), r: Number(r), p: Number(p) })
  t.equal(got.toString('base64'), want, 'the hash verifies the password')

  const saved = readFileSync(join(root, 'etc/outpost/outpost.conf'), 'utf8')
  t.notMatch(saved, /pass\\word|correct horse/, 'the saved settings hold no secret')
  t.equal(mode('etc/outpost/outpost.conf'), 0o644)
})

t.test('the admin password: the node verifies the hash provisioning writes; none set, none named', async t => {
  const { root } = await renderHotspot(t)
  const { readPasswordFile, verifyPassword } = await import('../../node/src/admin/auth.js')
  const hash = await readPasswordFile(join(root, 'etc/outpost/admin-password.scrypt'))
  if (typeof hash === 'string') throw new Error(hash)
  t.ok(await verifyPassword('correct horse battery', hash), 'the node accepts the password given to provision.sh')
  t.notOk(await verifyPassword('correct horse batterY', hash), 'and nothing else')

  // a later run without the password keeps the hash and still points the node at it
  const again = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--channel', '6'])
  t.equal(again.code, 0, again.stderr)
  t.match(JSON.parse(readFileSync(join(root, 'etc/outpost/config.json'), 'utf8')), { adminPasswordFile: '/etc/outpost/admin-password.scrypt' })

  const bare = tempDir(t, 'nopw')
  const r = await runScript(PROVISION, [...BASE_ARGS, '--root', bare])
  t.equal(r.code, 0, r.stderr)
  t.notOk(existsSync(join(bare, 'etc/outpost/admin-password.scrypt')), 'no hash file')
  t.notOk('adminPasswordFile' in JSON.parse(readFileSync(join(bare, 'etc/outpost/config.json'), 'utf8')), 'config.json names no password file: /admin stays closed')
})

t.test('a second run with the same settings changes nothing', async t => {
  const { root } = await renderHotspot(t)
  const before = snapshot(root)
  // same settings again (the community file and password included), then with no flags at all
  const again = await runScript(PROVISION, [...BASE_ARGS, '--root', root, '--ssid', SSID, '--passphrase', PASSPHRASE,
    '--admin-password', 'correct horse battery', '--hostname', 'camp-1'])
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /unchanged: everything was already as asked/)
  t.notMatch(again.stdout, /\bwrote\b/)
  t.same(snapshot(root), before, 'no file written: same contents, modes and mtimes')

  const bare = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root])
  t.equal(bare.code, 0, bare.stderr)
  t.match(bare.stdout, /unchanged: everything was already as asked/, 'the saved settings are the defaults of the next run')
  t.same(snapshot(root), before)

  // one change rewrites only the files that depend on it
  const changed = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--channel', '11'])
  t.equal(changed.code, 0, changed.stderr)
  const after = snapshot(root)
  const differs = Object.keys(after).filter(k => after[k] !== before[k]).sort()
  t.same(differs, ['etc/NetworkManager/system-connections/outpost-ap.nmconnection', 'etc/outpost/outpost.conf'], 'only the AP profile and the saved settings')
  t.match(readFileSync(join(root, 'etc/NetworkManager/system-connections/outpost-ap.nmconnection'), 'utf8'), /^channel=11$/m)
})

t.test('--dry-run prints the plan and changes nothing', async t => {
  const fresh = join(tempDir(t, 'dry'), 'root')
  const r = await runScript(PROVISION, [...BASE_ARGS, '--dry-run', '--root', fresh, '--passphrase', 'supersecret1'])
  t.equal(r.code, 0, r.stderr)
  t.notOk(existsSync(fresh), 'not even the root directory was made')
  t.match(r.stdout, /would create \/etc\/outpost\/dnsmasq\.conf/)
  t.match(r.stdout, /passphrase set \(12 characters\)/)
  t.notMatch(r.stdout, /supersecret1/, 'the plan never prints the passphrase')
  t.match(r.stdout, /dry run: \d+ changes planned/)

  const { root } = await renderHotspot(t)
  const before = snapshot(root)
  const d = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--dry-run', '--ssid', 'Other'])
  t.equal(d.code, 0, d.stderr)
  t.match(d.stdout, /would update \/etc\/NetworkManager\/system-connections\/outpost-ap\.nmconnection/)
  t.same(snapshot(root), before, 'nothing under the root changed')

  // without --root a dry run only reads the real system
  const watched = ['/etc/outpost', '/opt/outpost', '/etc/systemd/system/outpost.service', '/etc/NetworkManager/system-connections/outpost-ap.nmconnection']
  const existed = watched.map(p => existsSync(p))
  const live = await runScript(PROVISION, [...BASE_ARGS, '--dry-run', '--source', ROOT])
  t.equal(live.code, 0, live.stderr)
  t.match(live.stdout, /(would (create|update)|unchanged) +\/etc\/outpost\/config\.json/)
  t.same(watched.map(p => existsSync(p)), existed, 'nothing appeared or vanished on the real system')
})

t.test('bad flags and settings give a clear error and a non-zero exit', async t => {
  const root = tempDir(t, 'bad')
  const cases: Array<[string[], RegExp]> = [
    [['--bogus', 'x'], /unknown flag --bogus/],
    [['--ssid'], /--ssid needs a value/],
    [['--ssid=x'], /write flags as '--flag value'/],
    [['--ssid', 'x'.repeat(33)], /--ssid must be 1-32 bytes/],
    [['--passphrase', 'short'], /--passphrase must be 8-63 characters/],
    [['--country', 'Germany'], /--country must be a two-letter/],
    [['--address', '10.42.0.300/24'], /--address must be IPv4\/PREFIX/],
    [['--address', '10.42.0.0/24'], /is the network or broadcast address/],
    [['--dhcp-range', '10.42.0.1-10.42.0.9'], /must not contain the node's address/],
    [['--dhcp-range', '10.43.0.5-10.43.0.9'], /must lie inside 10\.42\.0\.0\/24/],
    [['--port', '80'], /--port must be 1024-65535/],
    [['--port', '7707'], /--port and --sync-port must differ/],
    [['--ap', 'magic'], /--ap must be networkmanager or hostapd/],
    [['--role', 'king'], /--role must be hotspot or relay/],
    [['--hostname', 'bad_name'], /--hostname must be letters, digits and '-'/],
    [['--interface', 'wlan0; rm -rf /'], /--interface must be an interface name/],
    [['--captive-api-url', 'http://x/"quoted"'], /--captive-api-url must be an http\(s\) URL/],
    [['--community', '/nonexistent/community.json'], /--community: no readable file/],
    [['--admin-password', 'short'], /--admin-password must be at least 8 characters/],
    [['--channel', '14'], /--channel must be 1-13/],
    [['--node-bin', '/nonexistent/node'], /--node-bin \/nonexistent\/node is not executable/],
    [['stray'], /unexpected argument 'stray'/]
  ]
  for (const [args, message] of cases) {
    const r = await runScript(PROVISION, ['--yes', '--country', 'DE', '--node-bin', process.execPath, '--root', root, ...args])
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`)
    t.match(r.stderr, message, `${args.join(' ')}: ${r.stderr.trim()}`)
  }
  const noCountry = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', join(root, 'fresh')])
  t.equal(noCountry.code, 2)
  t.match(noCountry.stderr, /--country is required for a hotspot/)
  t.same(snapshot(root), {}, 'a refused run wrote nothing')

  const notTty = await runScript(PROVISION, ['--country', 'DE', '--node-bin', process.execPath, '--root', root])
  t.equal(notTty.code, 2, 'without --yes and without a terminal it refuses to guess')
  t.match(notTty.stderr, /pass --yes/)
})

t.test('the node knows which interface is the access point (a route through it is no uplink)', async t => {
  const { root } = await renderHotspot(t, ['--interface', 'wlan1'])
  ensureBuilt()
  const cfg = await check(process.execPath, [BIN, 'config', '--config', join(root, 'etc', 'outpost', 'config.json')])
  t.equal(cfg.code, 0, cfg.out.slice(0, 300))
  t.match(JSON.parse(cfg.out), { apInterface: 'wlan1' }, 'with --interface wlan1, wlan0 may be the uplink')
})

t.test('outpost is on PATH with the Node.js the service runs', async t => {
  const { root } = await renderHotspot(t)
  const wrapper = join(root, 'usr/local/bin/outpost')
  t.equal(statSync(wrapper).mode & 0o777, 0o755)
  const text = readFileSync(wrapper, 'utf8')
  t.match(text, `exec ${process.execPath} /opt/outpost/bin/outpost.js "$@"`, 'the --node-bin, not whatever node is on PATH')
  // run it against this checkout instead of /opt/outpost
  ensureBuilt()
  const local = join(root, 'outpost-here')
  writeFileSync(local, text.replace('/opt/outpost', ROOT), { mode: 0o755 })
  const v = await check(local, ['community', '--help'])
  t.equal(v.code, 0, v.out)
  t.match(v.out, /Usage: outpost community/)
})

t.test('relay role: no access point, DHCP, DNS or firewall; files of an earlier hotspot run removed', async t => {
  const { root } = await renderHotspot(t)
  const r = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--role', 'relay'])
  t.equal(r.code, 0, r.stderr)
  for (const gone of ['etc/outpost/dnsmasq.conf', 'etc/outpost/outpost.nft', 'etc/systemd/system/outpost-dnsmasq.service',
    'etc/systemd/system/outpost-nft.service', 'etc/NetworkManager/system-connections/outpost-ap.nmconnection']) {
    t.notOk(existsSync(join(root, gone)), `${gone} removed`)
  }
  t.match(JSON.parse(readFileSync(join(root, 'etc/outpost/config.json'), 'utf8')), { role: 'relay' })
  const again = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root])
  t.match(again.stdout, /unchanged: everything was already as asked/)
})

t.test('a relay carried between sites joins their hotspot Wi-Fi as a client (--join-wifi)', async t => {
  const { root } = await renderHotspot(t)
  const profile = (id: string): string => join(root, 'etc/NetworkManager/system-connections', `${id}.nmconnection`)
  const r = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--role', 'relay', '--join-wifi', 'yes', '--ssid', 'Festival Outpost', '--passphrase', 'camp fire 2026'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /joins 'Festival Outpost' on wlan0 as a client/)
  t.notOk(existsSync(profile('outpost-ap')), 'no access point')
  const problems = checkJoinKeyfile(parseKeyfile(readFileSync(profile('outpost-join'), 'utf8')), { ssid: 'Festival Outpost', psk: 'camp fire 2026', iface: 'wlan0' })
  t.same(problems, [], 'the client profile is what NetworkManager expects, never a default route or DNS')
  t.equal(statSync(profile('outpost-join')).mode & 0o777, 0o600, 'holds the passphrase: root only')
  const again = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root])
  t.match(again.stdout, /unchanged: everything was already as asked/, 'remembered and idempotent (same UUID)')
  const bad = checkJoinKeyfile(parseKeyfile(readFileSync(profile('outpost-join'), 'utf8').replace('never-default=true', 'never-default=false')), { ssid: 'Festival Outpost', psk: 'camp fire 2026', iface: 'wlan0' })
  t.ok(bad.length > 0, `the check rejects a profile that takes the default route (${bad.join('; ')})`)
  const off = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--join-wifi', 'no'])
  t.equal(off.code, 0, off.stderr)
  t.notOk(existsSync(profile('outpost-join')), '--join-wifi no removes the profile')
  const hotspot = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--role', 'hotspot', '--join-wifi', 'yes'])
  t.equal(hotspot.code, 2)
  t.match(hotspot.stderr, /--join-wifi is for a relay/)
})

t.test('a relay needs the public community file, never the secret', async t => {
  const root = tempDir(t, 'relay')
  const none = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--role', 'relay'])
  t.equal(none.code, 2)
  t.match(none.stderr, /--community is required for a relay/)
  const secret = join(root, '..', `${root.split('/').pop() ?? 'x'}-secret.json`)
  writeFileSync(secret, '{"type":"outpost-community","version":1,"name":"c","publicKey":"' + 'a'.repeat(64) + '","open":false,"secretKey":"' + 'b'.repeat(128) + '"}\n')
  t.teardown(() => { spawnSync('rm', ['-f', secret]) })
  const withSecret = await runScript(PROVISION, ['--yes', '--node-bin', process.execPath, '--root', root, '--role', 'relay', '--community', secret])
  t.equal(withSecret.code, 2)
  t.match(withSecret.stderr, /a relay takes the public community file/)
  t.notOk(existsSync(join(root, 'etc/outpost/community.json')), 'nothing written')
})

t.test('the scripts are shellcheck-clean', { skip: hasTool('shellcheck') ? false : 'shellcheck not installed' }, async t => {
  const dir = join(ROOT, 'provisioning')
  const r = await check('shellcheck', ['-x', join(dir, 'provision.sh'), join(dir, 'firstboot.sh'), join(dir, 'uninstall.sh'),
    join(dir, 'lib', 'conf.sh'), join(dir, 'lib', 'render.sh'), join(dir, 'lib', 'steps.sh')])
  t.equal(r.code, 0, r.out)
})

t.test('the unit templates and scripts ship in the npm package', async t => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }
  t.ok(pkg.files.includes('provisioning') && pkg.files.includes('systemd'))
})

t.test('uninstall.sh removes what provision.sh wrote and keeps the data; --dry-run removes nothing', async t => {
  const { root } = await renderHotspot(t)
  mkdirSync(join(root, 'var/lib/outpost'), { recursive: true })
  writeFileSync(join(root, 'var/lib/outpost/node.json'), '{}')
  const before = snapshot(root)
  const dry = await runScript(UNINSTALL, ['--dry-run', '--root', root])
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, /would run: rm -rf --one-file-system .*\/etc\/outpost/)
  t.same(snapshot(root), before, 'the dry run removed nothing')

  const r = await runScript(UNINSTALL, ['--yes', '--root', root])
  t.equal(r.code, 0, r.stderr)
  const left = Object.keys(snapshot(root)).sort()
  t.same(left, ['etc/hostname', 'etc/hosts', 'var/lib/outpost/node.json'], 'only the host name and the node\'s data stay')

  const purge = await runScript(UNINSTALL, ['--yes', '--purge', '--root', root])
  t.equal(purge.code, 0, purge.stderr)
  t.notOk(existsSync(join(root, 'var/lib/outpost')), '--purge removes the data too')
  const bad = await runScript(UNINSTALL, ['--nope'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /unknown argument '--nope'/)
})
