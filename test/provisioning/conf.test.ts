import t from 'tap'
import { existsSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/node-process.js'
import { keyfileSsid, parseKeyfile } from './keyfile.js'
import { FIRSTBOOT, PROVISION, runScript, snapshot, tempDir } from './run-script.js'

const NODE = ['--node-bin', process.execPath]

t.test('outpost.conf values are data: quotes, $(...), backticks and ${...} stay literal', async t => {
  const dir = tempDir(t, 'conf')
  const conf = join(dir, 'outpost.conf')
  const canary = join(dir, 'ran')
  writeFileSync(conf, [
    '\ufeff# written on Windows: BOM and CRLF',
    'SSID="Evil $(touch /tmp/opw3) `id`"',
    "PASSPHRASE='it''s \"fine\" ${HOME}'",
    'NAME=  blanks around are trimmed   ',
    'country = ke',
    'hostname=Camp-2',
    '',
    '   # an indented comment',
    `ADMIN_PASSWORD="$(touch ${canary})x"`
  ].join('\r\n') + '\r\n')
  const root = join(dir, 'root')
  const r = await runScript(PROVISION, ['--yes', ...NODE, '--root', root, '--from-conf', conf])
  t.equal(r.code, 0, r.stderr)
  t.notOk(existsSync(canary) || existsSync('/tmp/opw3'), 'nothing in the file was run')

  const config = JSON.parse(readFileSync(join(root, 'etc/outpost/config.json'), 'utf8')) as { name: string }
  t.equal(config.name, 'blanks around are trimmed')
  const kf = parseKeyfile(readFileSync(join(root, 'etc/NetworkManager/system-connections/outpost-ap.nmconnection'), 'utf8'))
  t.equal(keyfileSsid(kf.get('wifi')?.get('ssid') ?? '').toString(), 'Evil $(touch /tmp/opw3) `id`', 'SSID byte for byte')
  t.equal(kf.get('wifi-security')?.get('psk'), 'it\'\'s "fine" ${HOME}', 'passphrase byte for byte, ${HOME} not expanded')
  t.match(readFileSync(join(root, 'etc/modprobe.d/outpost-wifi-country.conf'), 'utf8'), /ieee80211_regdom=KE$/m, 'keys and country are case-insensitive')
  t.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'camp-2\n')
  t.ok(existsSync(join(root, 'etc/outpost/admin-password.scrypt')), 'the admin password (literally "$(touch …)x") was hashed')
})

t.test('flags given after --from-conf win over the file', async t => {
  const dir = tempDir(t, 'conf')
  const conf = join(dir, 'outpost.conf')
  writeFileSync(conf, 'SSID=FromFile\nCOUNTRY=FR\nCHANNEL=1\n')
  const root = join(dir, 'root')
  const r = await runScript(PROVISION, ['--yes', ...NODE, '--root', root, '--from-conf', conf, '--channel', '11'])
  t.equal(r.code, 0, r.stderr)
  const kf = readFileSync(join(root, 'etc/NetworkManager/system-connections/outpost-ap.nmconnection'), 'utf8')
  t.match(kf, /^ssid=FromFile$/m)
  t.match(kf, /^channel=11$/m)
})

t.test('--admin-password-file reads the password from a file; a second run keeps the same hash', async t => {
  const dir = tempDir(t, 'conf')
  const root = join(dir, 'root')
  writeFileSync(join(dir, 'pw'), 'from a file 123\n')
  const args = ['--yes', '--country', 'DE', ...NODE, '--root', root, '--admin-password-file', join(dir, 'pw')]
  t.equal((await runScript(PROVISION, args)).code, 0)
  const hash = readFileSync(join(root, 'etc/outpost/admin-password.scrypt'), 'utf8')
  const [, , , , salt, want] = hash.trim().split('$')
  const { scryptSync } = await import('node:crypto')
  t.equal(scryptSync('from a file 123', Buffer.from(salt ?? '', 'base64'), 32, { N: 16384, r: 8, p: 1 }).toString('base64'), want, 'first line of the file, without its newline')
  const again = await runScript(PROVISION, args)
  t.match(again.stdout, /unchanged: everything was already as asked/, 'a matching hash is kept, salt and all')
  writeFileSync(join(dir, 'pw'), 'another password\n')
  const changed = await runScript(PROVISION, args)
  t.match(changed.stdout, /wrote {6}\/etc\/outpost\/admin-password\.scrypt/, 'a new password is a new hash')
})

t.test('a malformed outpost.conf is refused with its line number, and nothing is written', async t => {
  const dir = tempDir(t, 'conf')
  const root = join(dir, 'root')
  const cases: Array<[string, RegExp]> = [
    ['SSID=ok\nexport COUNTRY=DE\n', /line 2: expected KEY=value/],
    ['SSID=ok\nCOUNTRY=DE\nWIFI_PASSWORD=x\n', /line 3: unknown setting WIFI_PASSWORD/],
    ['SSID=ok\n$(reboot)\n', /line 2: expected KEY=value/],
    ['COUNTRY=DE\nPORT=80\n', /--port must be 1024-65535/],
    ['COUNTRY=DE\nSSID=\n', /--ssid must be 1-32 bytes/]
  ]
  for (const [text, message] of cases) {
    const conf = join(dir, 'outpost.conf')
    writeFileSync(conf, text)
    const r = await runScript(PROVISION, ['--yes', ...NODE, '--root', root, '--from-conf', conf])
    t.equal(r.code, 2, `${JSON.stringify(text)} exits 2`)
    t.match(r.stderr, message, r.stderr.trim())
  }
  t.notOk(existsSync(root), 'nothing rendered')
  const missing = await runScript(PROVISION, ['--yes', ...NODE, '--root', root, '--from-conf', join(dir, 'nope.conf')])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /nope\.conf: no such readable file/)
})

t.test('the documented sample parses once a country is filled in', async t => {
  const root = join(tempDir(t, 'sample'), 'root')
  const sample = join(ROOT, 'provisioning', 'outpost.conf.sample')
  const without = await runScript(PROVISION, ['--yes', ...NODE, '--root', root, '--from-conf', sample])
  t.equal(without.code, 2)
  t.match(without.stderr, /--country is required/, 'the sample leaves the country to the admin')
  const r = await runScript(PROVISION, ['--yes', ...NODE, '--root', root, '--from-conf', sample, '--country', 'NL'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /access point: {2}'Outpost' on wlan0 via networkmanager, country NL/)
  t.match(r.stdout, /passphrase none \(open network\)/)
})

t.test('first boot applies outpost.conf from the boot partition once and removes its secrets', async t => {
  const dir = tempDir(t, 'firstboot')
  const boot = join(dir, 'bootfs')
  const root = join(dir, 'root')
  mkdirSync(boot)
  writeFileSync(join(boot, 'community.json'), '{"community":"festival","secret":"organiser-only"}\n')
  writeFileSync(join(boot, 'outpost.conf'), [
    '# edited on a laptop',
    'SSID=Festival',
    'PASSPHRASE="wifi password 1"',
    'COUNTRY=GB',
    'COMMUNITY=community.json',
    'ADMIN_PASSWORD=admin password 1'
  ].join('\n') + '\n')

  const r = await runScript(FIRSTBOOT, ['--boot', boot, '--root', root, ...NODE])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(join(root, 'etc/outpost/community.json'), 'utf8'), '{"community":"festival","secret":"organiser-only"}\n', 'community installed')
  t.equal(statSync(join(root, 'etc/outpost/community.json')).mode & 0o777, 0o640)
  t.notOk(existsSync(join(boot, 'outpost.conf')), 'outpost.conf is gone')
  t.notOk(existsSync(join(boot, 'community.json')), 'the community file left the boot partition')
  const applied = readFileSync(join(boot, 'outpost.conf.applied'), 'utf8')
  t.match(applied, /^SSID=Festival$/m, 'the applied copy keeps the plain settings')
  t.match(applied, /^PASSPHRASE=<removed after it was applied>$/m)
  t.match(applied, /^ADMIN_PASSWORD=<removed after it was applied>$/m)
  t.notMatch(applied, /wifi password 1|admin password 1/, 'no secret stays on the FAT partition')
  t.match(readFileSync(join(root, 'etc/NetworkManager/system-connections/outpost-ap.nmconnection'), 'utf8'), /^psk=wifi password 1$/m)

  const before = snapshot(root)
  const again = await runScript(FIRSTBOOT, ['--boot', boot, '--root', root, ...NODE])
  t.equal(again.code, 0)
  t.match(again.stdout, /no outpost\.conf in .*: nothing to do/)
  t.same(snapshot(root), before)
})

t.test('a first boot that fails keeps outpost.conf and explains why beside it', async t => {
  const dir = tempDir(t, 'firstboot')
  const boot = join(dir, 'bootfs')
  mkdirSync(boot)
  writeFileSync(join(boot, 'outpost.conf'), 'SSID=Festival\nPASSPHRASE=short\n')
  const r = await runScript(FIRSTBOOT, ['--boot', boot, '--root', join(dir, 'root'), ...NODE])
  t.equal(r.code, 1)
  t.ok(existsSync(join(boot, 'outpost.conf')), 'kept for the next boot')
  t.match(readFileSync(join(boot, 'outpost-error.txt'), 'utf8'), /--passphrase must be 8-63 characters/)
  t.notOk(existsSync(join(boot, 'outpost.conf.applied')))

  writeFileSync(join(boot, 'outpost.conf'), 'SSID=Festival\nWIFI=oops\n')
  const bad = await runScript(FIRSTBOOT, ['--boot', boot, '--root', join(dir, 'root'), ...NODE])
  t.equal(bad.code, 1)
  t.match(readFileSync(join(boot, 'outpost-error.txt'), 'utf8'), /line 2: unknown setting WIFI/)
})
