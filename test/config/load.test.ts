import t from 'tap'
import type { Test } from 'tap'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../node/src/config/config-error.js'
import { defaultConfig, loadConfig } from '../../node/src/config/load.js'
import type { LoadConfigInput } from '../../node/src/config/load.js'
import { renderConfigTable, renderOptionsHelp } from '../../node/src/config/render.js'
import { settings, unknownEnv } from '../../node/src/config/schema.js'
import type { Setting } from '../../node/src/config/schema.js'
import type { Config } from '../../node/src/config/types.js'

const CWD = '/work/outpost'

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-config-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

function writeConfig (t: Test, json: unknown, raw?: string): string {
  const file = join(tempDir(t), 'outpost.json')
  writeFileSync(file, raw ?? JSON.stringify(json))
  return file
}

function load (input: Partial<LoadConfigInput> = {}): Config {
  return loadConfig({ argv: [], env: {}, cwd: CWD, isTTY: false, ...input })
}

function get (config: Config, key: string): unknown {
  return key.split('.').reduce<any>((o, k) => o[k], config)
}

function configError (fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('the embedded defaults are a local development node', async t => {
  const config = load()
  t.same(config, {
    dataDir: '/work/outpost/data',
    host: '127.0.0.1',
    port: 8080,
    name: 'Outpost',
    role: 'hotspot',
    community: null,
    syncPort: 7707,
    syncHost: '127.0.0.1',
    peers: [],
    lan: false,
    lanInterfaces: [],
    swarm: 'off',
    bootstrap: [],
    apInterface: 'wlan0',
    swarmBudget: 0,
    adminPasswordFile: null,
    logLevel: 'info',
    logPretty: false,
    limits: {
      maxEventBytes: 65536,
      maxTags: 2000,
      maxContentLength: 32768,
      maxFutureSeconds: 900,
      maxFrameBytes: 131072,
      maxSubscriptions: 20,
      maxFilters: 10,
      maxLimit: 500,
      defaultLimit: 500,
      messagesPerSecond: 20,
      eventsPerMinutePerIp: 600,
      connectionsPerIp: 32
    },
    store: {
      commitWindowMs: 0,
      commitMaxEvents: 256,
      commitMaxBytes: 1048576,
      writeBufferMiB: 8,
      minFreeDiskMiB: 64,
      verifyWorkerThreshold: 32
    },
    portal: {
      enabled: 'auto',
      mode: 'online',
      clientTtl: 259200,
      address: null,
      port: 0,
      hostnames: [],
      title: '',
      text: '',
      logo: null,
      leasesFile: null
    }
  })
  t.equal(load({ isTTY: true }).logPretty, true, 'pretty logs on a terminal')
  t.same(defaultConfig({ cwd: CWD, isTTY: false }), config)
})

t.test('each layer overrides the one below', async t => {
  const file = writeConfig(t, { port: 1001, swarm: 'auto', limits: { maxTags: 11 }, store: { commitWindowMs: 1 } })
  const env = { OUTPOST_CONFIG: file, OUTPOST_PORT: '1002', OUTPOST_MAX_TAGS: '12' }

  const fromFile = load({ env: { OUTPOST_CONFIG: file } })
  t.equal(fromFile.port, 1001, 'file over default')
  t.equal(fromFile.limits.maxTags, 11)
  t.equal(fromFile.store.commitWindowMs, 1)
  t.equal(fromFile.host, '127.0.0.1', 'unset in the file keeps the default')

  const fromEnv = load({ env })
  t.equal(fromEnv.port, 1002, 'env over file')
  t.equal(fromEnv.limits.maxTags, 12)
  t.equal(fromEnv.swarm, 'auto', 'the file still applies where env is silent')

  const fromFlags = load({ env, argv: ['--port', '1003', '--max-tags=13'] })
  t.equal(fromFlags.port, 1003, 'flag over env')
  t.equal(fromFlags.limits.maxTags, 13)
  t.equal(fromFlags.swarm, 'auto')
  t.equal(fromFlags.store.commitWindowMs, 1)
})

t.test('--config wins over OUTPOST_CONFIG', async t => {
  const a = writeConfig(t, { name: 'from-env-file' })
  const b = writeConfig(t, { name: 'from-flag-file' })
  t.equal(load({ env: { OUTPOST_CONFIG: a }, argv: ['--config', b] }).name, 'from-flag-file')
  t.equal(load({ env: { OUTPOST_CONFIG: '' } }).name, 'Outpost', 'an empty OUTPOST_CONFIG is unset')
})

t.test('relative paths resolve against cwd, or against the config file', async t => {
  t.equal(load({ argv: ['--data', 'd'] }).dataDir, '/work/outpost/d')
  t.equal(load({ env: { OUTPOST_DATA_DIR: '../e' } }).dataDir, '/work/e')
  t.equal(load({ argv: ['--data', '/abs'] }).dataDir, '/abs')
  const dir = tempDir(t)
  mkdirSync(join(dir, 'etc'))
  const file = join(dir, 'etc', 'outpost.json')
  writeFileSync(file, JSON.stringify({ dataDir: '../var' }))
  t.equal(load({ argv: ['--config', 'etc/outpost.json'], cwd: dir }).dataDir, join(dir, 'var'))
})

t.test('list settings: flags repeat, env is comma-separated, each layer replaces the one below', async t => {
  const file = writeConfig(t, { peers: ['file:1'], bootstrap: ['boot:1'] })
  t.same(load({ argv: ['--config', file] }).peers, ['file:1'])
  t.same(load({ argv: ['--config', file], env: { OUTPOST_PEERS: 'a:1, b:2,,[::1]:3' } }).peers, ['a:1', 'b:2', '[::1]:3'])
  const c = load({ argv: ['--config', file, '--peer', 'x:1', '--peer=y:2', '--bootstrap', 'b:7', '--bootstrap', 'c:8'], env: { OUTPOST_PEERS: 'a:1' } })
  t.same(c.peers, ['x:1', 'y:2'])
  t.same(c.bootstrap, ['b:7', 'c:8'])
  t.same(load({ argv: ['--peer', 'x:1', '--peer', 'x:1'] }).peers, ['x:1'], 'duplicates dropped')
  t.same(load({ argv: ['--config', file], env: { OUTPOST_PEERS: '' } }).peers, [], 'an empty env list clears the file\'s')
  t.same(load({ env: { OUTPOST_BOOTSTRAP: 'node1.example.org:49737,10.0.0.1:49737' } }).bootstrap,
    ['node1.example.org:49737', '10.0.0.1:49737'])
  t.same(load({ argv: ['--lan-interface', 'wlan0', '--lan-interface=br-lan.10'], env: { OUTPOST_LAN_INTERFACES: 'eth0' } }).lanInterfaces, ['wlan0', 'br-lan.10'])
  t.same(load({ env: { OUTPOST_LAN_INTERFACES: 'wlan0, eth0' } }).lanInterfaces, ['wlan0', 'eth0'])
})

t.test('booleans: --x, --no-x, --x=false, env words, file booleans', async t => {
  t.equal(load({ argv: ['--lan'] }).lan, true)
  t.equal(load({ argv: ['--lan', '--no-lan'] }).lan, false, 'last flag wins')
  t.equal(load({ argv: ['--lan=false'] }).lan, false)
  t.equal(load({ env: { OUTPOST_LAN: 'yes' } }).lan, true)
  t.equal(load({ env: { OUTPOST_LAN: 'ON' } }).lan, true)
  t.equal(load({ env: { OUTPOST_LAN: '0' } }).lan, false)
  t.equal(load({ env: { OUTPOST_LAN: 'true' }, argv: ['--no-lan'] }).lan, false)
  t.equal(load({ isTTY: true, argv: ['--no-log-pretty'] }).logPretty, false)
  t.equal(load({ argv: ['--config', writeConfig(t, { lan: true })] }).lan, true)
})

t.test('min-free-disk: MiB, or a size with a binary unit; a file takes either', async t => {
  t.equal(load({}).store.minFreeDiskMiB, 64, 'default 64 MiB')
  t.equal(load({ argv: ['--min-free-disk', '100'] }).store.minFreeDiskMiB, 100)
  t.equal(load({ argv: ['--min-free-disk', '1G'] }).store.minFreeDiskMiB, 1024)
  t.equal(load({ argv: ['--min-free-disk=256 MiB'] }).store.minFreeDiskMiB, 256)
  t.equal(load({ env: { OUTPOST_MIN_FREE_DISK: '512k' } }).store.minFreeDiskMiB, 0.5)
  t.equal(load({ argv: ['--min-free-disk', '0'] }).store.minFreeDiskMiB, 0, '0 = no reserve')
  t.equal(load({ argv: ['--config', writeConfig(t, { store: { minFreeDiskMiB: '2G' } })] }).store.minFreeDiskMiB, 2048)
  t.equal(load({ argv: ['--config', writeConfig(t, { store: { minFreeDiskMiB: 32 } })] }).store.minFreeDiskMiB, 32)
})

t.test('community: id or file, empty text unsets it', async t => {
  t.equal(load({ argv: ['--community', 'camp.json'] }).community, 'camp.json')
  t.equal(load({ env: { OUTPOST_COMMUNITY: 'abc' } }).community, 'abc')
  t.equal(load({ env: { OUTPOST_COMMUNITY: 'abc' }, argv: ['--community='] }).community, null)
  t.equal(load({ argv: ['--config', writeConfig(t, { community: null })] }).community, null)
})

// A valid non-default value for each setting, to prove every setting is reachable each way.
function sample (s: Setting): { value: unknown, text: string[] } {
  const def = s.default({ cwd: CWD, isTTY: false })
  switch (s.kind.type) {
    case 'int': { const n = (def as number) > 0 ? (def as number) - 1 : (def as number) + 1; return { value: n, text: [String(n)] } }
    case 'boolean': return { value: !(def as boolean), text: [String(!(def as boolean))] }
    case 'enum': {
      const v = s.kind.values.find(v => v !== def) as string
      return { value: v, text: [v] }
    }
    case 'host': { const v = def === '0.0.0.0' ? '192.168.4.1' : '0.0.0.0'; return { value: v, text: [v] } }
    case 'name': return { value: 'Camp North', text: ['Camp North'] }
    case 'path': return { value: '/srv/outpost', text: ['/srv/outpost'] }
    case 'community': return { value: '/srv/camp.json', text: ['/srv/camp.json'] }
    case 'hostPortList': return { value: ['h:1', 'h:2'], text: ['h:1', 'h:2'] }
    case 'optionalHost': return { value: '10.42.0.1', text: ['10.42.0.1'] }
    case 'hostList': return { value: ['node.home.arpa', 'camp.local'], text: ['node.home.arpa', 'camp.local'] }
    case 'text': return { value: 'Welcome to camp', text: ['Welcome to camp'] }
    case 'optionalPath': return { value: '/srv/outpost/x', text: ['/srv/outpost/x'] }
    case 'interfaceList': return { value: ['wlan0', 'eth0'], text: ['wlan0', 'eth0'] }
    case 'mib': return { value: 0.5, text: ['512K'] }
  }
}

t.test('every setting is reachable by flag, env and config file', async t => {
  for (const s of settings) {
    const { value, text } = sample(s)
    t.not(get(load(), s.key), value, `${s.key}: the sample differs from the default`)

    const argv = s.kind.type === 'boolean'
      ? [value === true ? `--${s.flag}` : `--no-${s.flag}`]
      : text.flatMap(v => [`--${s.flag}`, v])
    t.same(get(load({ argv }), s.key), value, `${s.key} by ${argv.join(' ')}`)

    t.same(get(load({ env: { [s.env]: text.join(',') } }), s.key), value, `${s.key} by ${s.env}`)

    const dot = s.key.indexOf('.')
    const json = dot === -1 ? { [s.key]: value } : { [s.key.slice(0, dot)]: { [s.key.slice(dot + 1)]: value } }
    t.same(get(load({ argv: ['--config', writeConfig(t, json)] }), s.key), value, `${s.key} by the config file`)
  }
})

t.test('flag and env names are unique', async t => {
  const flags = settings.map(s => s.flag)
  const envs = settings.map(s => s.env)
  t.equal(new Set(flags).size, flags.length)
  t.equal(new Set(envs).size, envs.length)
  t.ok(envs.every(e => /^OUTPOST_[A-Z0-9_]+$/.test(e)), envs.join(' '))
  t.notOk(flags.includes('config'))
})

interface Bad {
  name: string
  argv?: string[]
  env?: Record<string, string>
  file?: unknown
  raw?: string
  setting: string
  message: RegExp | string
}

const bad: Bad[] = [
  { name: 'port not a number', argv: ['--port', 'abc'], setting: '--port', message: '--port: must be an integer 0-65535, got "abc"' },
  { name: 'min-free-disk not a size', argv: ['--min-free-disk', '64X'], setting: '--min-free-disk', message: '--min-free-disk: must be a size in MiB or with a unit (e.g. 64, 512K, 64M, 1G), got "64X"' },
  { name: 'min-free-disk negative in a file', file: { store: { minFreeDiskMiB: -1 } }, setting: 'store.minFreeDiskMiB', message: /store\.minFreeDiskMiB: must be a size in MiB/ },
  { name: 'port too big', argv: ['--port=70000'], setting: '--port', message: '--port: must be an integer 0-65535, got "70000"' },
  { name: 'port negative', argv: ['--port', '-1'], setting: '--port', message: /^--port: must be an integer 0-65535/ },
  { name: 'port fractional', env: { OUTPOST_PORT: '80.5' }, setting: 'OUTPOST_PORT', message: 'OUTPOST_PORT: must be an integer 0-65535, got "80.5"' },
  { name: 'port in hex', env: { OUTPOST_SYNC_PORT: '0x50' }, setting: 'OUTPOST_SYNC_PORT', message: /^OUTPOST_SYNC_PORT: must be an integer 0-65535/ },
  { name: 'port empty', env: { OUTPOST_PORT: '' }, setting: 'OUTPOST_PORT', message: 'OUTPOST_PORT: must be an integer 0-65535, got ""' },
  { name: 'swarm enum (env)', env: { OUTPOST_SWARM: 'maybe' }, setting: 'OUTPOST_SWARM', message: 'OUTPOST_SWARM: must be one of auto, on, off, got "maybe"' },
  { name: 'swarm enum (flag)', argv: ['--swarm', 'yes'], setting: '--swarm', message: '--swarm: must be one of auto, on, off, got "yes"' },
  { name: 'role enum', argv: ['--role', 'server'], setting: '--role', message: '--role: must be one of hotspot, relay, got "server"' },
  { name: 'log level enum', env: { OUTPOST_LOG_LEVEL: 'verbose' }, setting: 'OUTPOST_LOG_LEVEL', message: /^OUTPOST_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/ },
  { name: 'boolean env', env: { OUTPOST_LAN: 'maybe' }, setting: 'OUTPOST_LAN', message: 'OUTPOST_LAN: must be true or false, got "maybe"' },
  { name: 'boolean flag value', argv: ['--lan=2'], setting: '--lan', message: '--lan: must be true or false, got "2"' },
  { name: 'negated flag with a value', argv: ['--no-lan=true'], setting: '--no-lan', message: '--no-lan: takes no value' },
  { name: 'host', argv: ['--host', 'not a host'], setting: '--host', message: /^--host: must be an IP address or host name, got "not a host"/ },
  { name: 'host label', env: { OUTPOST_HOST: '-bad-.local' }, setting: 'OUTPOST_HOST', message: /^OUTPOST_HOST: must be an IP address or host name/ },
  { name: 'peer without port', argv: ['--peer', 'a:1', '--peer', 'lonely'], setting: '--peer', message: '--peer: must be HOST:PORT (port 1-65535), got "lonely"' },
  { name: 'peer port 0', argv: ['--peer', 'a:0'], setting: '--peer', message: /^--peer: must be HOST:PORT/ },
  { name: 'peer bare ipv6', argv: ['--peer', '::1:80'], setting: '--peer', message: /^--peer: must be HOST:PORT/ },
  { name: 'env peer list', env: { OUTPOST_PEERS: 'a:1,b:99999' }, setting: 'OUTPOST_PEERS', message: 'OUTPOST_PEERS: must be HOST:PORT (port 1-65535), got "b:99999"' },
  { name: 'lan interface too long', argv: ['--lan-interface', 'wlan0123456789ab'], setting: '--lan-interface', message: /^--lan-interface: must be an interface name \(1-15 characters/ },
  { name: 'lan interface with a slash', env: { OUTPOST_LAN_INTERFACES: 'eth0,a/b' }, setting: 'OUTPOST_LAN_INTERFACES', message: /^OUTPOST_LAN_INTERFACES: must be an interface name .*, got "a\/b"$/ },
  { name: 'bootstrap', argv: ['--bootstrap', 'x:y'], setting: '--bootstrap', message: /^--bootstrap: must be HOST:PORT/ },
  { name: 'positive integer', argv: ['--max-tags', '0'], setting: '--max-tags', message: '--max-tags: must be a positive integer, got "0"' },
  { name: 'integer with exponent', argv: ['--max-event-bytes', '1e5'], setting: '--max-event-bytes', message: /^--max-event-bytes: must be a positive integer/ },
  { name: 'bounded integer', env: { OUTPOST_WRITE_BUFFER_MIB: '4096' }, setting: 'OUTPOST_WRITE_BUFFER_MIB', message: 'OUTPOST_WRITE_BUFFER_MIB: must be an integer 1-1024, got "4096"' },
  { name: 'non-negative integer', argv: ['--commit-window-ms', '-5'], setting: '--commit-window-ms', message: /^--commit-window-ms: must be a non-negative integer/ },
  { name: 'name empty', argv: ['--name='], setting: '--name', message: /^--name: must be 1-64 characters/ },
  { name: 'name too long', env: { OUTPOST_NAME: 'x'.repeat(65) }, setting: 'OUTPOST_NAME', message: /^OUTPOST_NAME: must be 1-64 characters/ },
  { name: 'empty data dir', argv: ['--data', ''], setting: '--data', message: /^--data: must be a non-empty path/ },
  { name: 'portal mode', argv: ['--portal-mode', 'lying'], setting: '--portal-mode', message: '--portal-mode: must be one of online, honest, got "lying"' },
  { name: 'portal address', env: { OUTPOST_PORTAL_ADDRESS: 'http://10.42.0.1/' }, setting: 'OUTPOST_PORTAL_ADDRESS', message: /^OUTPOST_PORTAL_ADDRESS: must be an IP address or host name/ },
  { name: 'portal hostname list', argv: ['--portal-hostname', 'ok.local', '--portal-hostname', 'bad name'], setting: '--portal-hostname', message: '--portal-hostname: must be an IP address or host name, got "bad name"' },
  { name: 'portal title with a control character', file: { portal: { title: 'Camp\u0007' } }, setting: 'portal.title', message: /portal\.title: must be at most 80 characters without control characters/ },
  { name: 'portal text too long', argv: ['--portal-text', 'x'.repeat(2001)], setting: '--portal-text', message: /^--portal-text: must be at most 2000 characters/ },
  { name: 'portal client TTL zero', argv: ['--portal-client-ttl', '0'], setting: '--portal-client-ttl', message: '--portal-client-ttl: must be a positive integer, got "0"' },
  { name: 'portal unknown key', file: { portal: { modus: 'online' } }, setting: 'portal.modus', message: /portal\.modus: unknown setting \(did you mean portal\.mode\?\)/ },
  { name: 'missing value at the end', argv: ['--port'], setting: '--port', message: '--port: needs a value' },
  { name: 'missing value before a flag', argv: ['--data', '--port', '1'], setting: '--data', message: '--data: needs a value' },
  { name: 'missing config value', argv: ['--config'], setting: '--config', message: '--config: needs a value' },
  { name: 'unknown flag', argv: ['--frobnicate'], setting: '--frobnicate', message: '--frobnicate: unknown option' },
  { name: 'unknown flag, a typo', argv: ['--prot', '1'], setting: '--prot', message: '--prot: unknown option (did you mean --port?)' },
  { name: 'negating a non-boolean', argv: ['--no-port'], setting: '--no-port', message: /^--no-port: unknown option/ },
  { name: 'short flag', argv: ['-p', '1'], setting: '-p', message: /^-p: unknown option/ },
  { name: 'positional argument', argv: ['extra'], setting: 'extra', message: /^extra: unexpected argument/ },
  { name: 'file: unknown key', file: { port: 1, prot: 2 }, setting: 'prot', message: /: prot: unknown setting \(did you mean port\?\)$/ },
  { name: 'file: unknown nested key', file: { limits: { maxTag: 5 } }, setting: 'limits.maxTag', message: /: limits\.maxTag: unknown setting \(did you mean limits\.maxTags\?\)$/ },
  { name: 'file: nesting forgotten', file: { maxTags: 5 }, setting: 'maxTags', message: /: maxTags: unknown setting \(did you mean limits\.maxTags\?\)$/ },
  { name: 'file: unknown group', file: { relay: {} }, setting: 'relay', message: /: relay: unknown setting$/ },
  { name: 'file: group not an object', file: { limits: 5 }, setting: 'limits', message: /: limits: must be a JSON object, got 5$/ },
  { name: 'file: not an object', file: [1], setting: '--config', message: /: must be a JSON object, got \[1\]$/ },
  { name: 'file: number as a string', file: { port: '8080' }, setting: 'port', message: /: port: must be an integer 0-65535, got "8080"$/ },
  { name: 'file: nested positive integer', file: { limits: { maxTags: -3 } }, setting: 'limits.maxTags', message: /^config file \/.+\/outpost\.json: limits\.maxTags: must be a positive integer, got -3$/ },
  { name: 'file: list not an array', file: { peers: 'a:1' }, setting: 'peers', message: /: peers: must be a list of HOST:PORT, got "a:1"$/ },
  { name: 'file: interfaces not a list', file: { lanInterfaces: 'wlan0' }, setting: 'lanInterfaces', message: /: lanInterfaces: must be a list of interface names, got "wlan0"$/ },
  { name: 'file: bad list item', file: { bootstrap: ['a:1', 7] }, setting: 'bootstrap', message: /: bootstrap: must be HOST:PORT \(port 1-65535\), got 7$/ },
  { name: 'file: boolean as a string', file: { lan: 'true' }, setting: 'lan', message: /: lan: must be true or false, got "true"$/ },
  { name: 'file: community empty', file: { community: '' }, setting: 'community', message: /: community: must be a community id or file/ },
  { name: 'file: bad JSON', raw: '{ "port": 80, }', setting: '--config', message: /^config file \/.+: not valid JSON: / },
  { name: 'cross: default limit above max limit', argv: ['--default-limit', '600'], setting: '--default-limit', message: '--default-limit: must be at most limits.maxLimit (500), got 600' },
  { name: 'cross: the higher layer is blamed', env: { OUTPOST_DEFAULT_LIMIT: '100' }, argv: ['--max-limit', '50'], setting: '--max-limit', message: '--max-limit: must be at least limits.defaultLimit (100), got 50' },
  { name: 'cross: event bigger than a frame', argv: ['--max-event-bytes', '200000'], setting: '--max-event-bytes', message: '--max-event-bytes: must be at most limits.maxFrameBytes (131072), got 200000' },
  { name: 'cross: event bigger than a block', argv: ['--commit-max-bytes', '1000'], setting: '--commit-max-bytes', message: '--commit-max-bytes: must be at least limits.maxEventBytes (65536), got 1000' },
  { name: 'cross: content bigger than an event', env: { OUTPOST_MAX_CONTENT_LENGTH: '100000' }, setting: 'OUTPOST_MAX_CONTENT_LENGTH', message: /^OUTPOST_MAX_CONTENT_LENGTH: must be at most limits.maxEventBytes/ },
  { name: 'cross: same port twice', argv: ['--sync-port', '8080'], setting: '--sync-port', message: '--sync-port: must differ from port (8080)' }
]

t.test('every bad setting is a one-line ConfigError naming it', async t => {
  for (const c of bad) {
    const argv = [...(c.argv ?? [])]
    if (c.file !== undefined || c.raw !== undefined) argv.unshift('--config', writeConfig(t, c.file, c.raw))
    const err = configError(() => load({ argv, env: c.env ?? {} }))
    t.equal(err.code, 'ERR_CONFIG', c.name)
    t.equal(err.setting, c.setting, `${c.name}: setting`)
    if (typeof c.message === 'string') t.equal(err.message, c.message, `${c.name}: message`)
    else t.match(err.message, c.message, `${c.name}: message`)
    t.notMatch(err.message, /\n/, `${c.name}: one line`)
  }
})

t.test('a missing config file names where it came from', async t => {
  const missing = join(tempDir(t), 'nope.json')
  const a = configError(() => load({ argv: ['--config', missing] }))
  t.equal(a.setting, '--config')
  t.equal(a.message, `--config: cannot read config file ${missing}: no such file`)
  const b = configError(() => load({ env: { OUTPOST_CONFIG: missing } }))
  t.equal(b.setting, 'OUTPOST_CONFIG')
  t.match(b.message, /^OUTPOST_CONFIG: cannot read config file /)
  const c = configError(() => load({ argv: ['--config', tempDir(t)] }))
  t.match(c.message, /: is a directory$/)
})

t.test('a lowered max-limit takes the unset default-limit with it', async t => {
  const c = load({ argv: ['--max-limit', '50'] })
  t.equal(c.limits.maxLimit, 50)
  t.equal(c.limits.defaultLimit, 50)
  t.equal(load({ argv: ['--max-limit', '50', '--default-limit', '20'] }).limits.defaultLimit, 20)
})

t.test('the sync port stays on loopback with the node unless it serves the network or the LAN', async t => {
  t.equal(load().syncHost, '127.0.0.1', 'npm start opens nothing to the network')
  t.equal(load({ argv: ['--host', '::1'] }).syncHost, '::1')
  t.equal(load({ argv: ['--host', 'localhost'] }).syncHost, 'localhost')
  t.equal(load({ argv: ['--host', '0.0.0.0'] }).syncHost, '0.0.0.0', 'a hotspot node listens everywhere')
  t.equal(load({ argv: ['--lan'] }).syncHost, '0.0.0.0', 'LAN peers must reach the advertised port')
  t.equal(load({ argv: ['--sync-host', '0.0.0.0'] }).syncHost, '0.0.0.0', 'an explicit setting wins')
  t.equal(load({ env: { OUTPOST_SYNC_HOST: '10.0.0.1' } }).syncHost, '10.0.0.1')
})

t.test('port 0 twice is fine (any free port)', async t => {
  const c = load({ argv: ['--port', '0', '--sync-port', '0'] })
  t.equal(c.port, 0)
  t.equal(c.syncPort, 0)
})

t.test('unknownEnv reports OUTPOST_* typos only', async t => {
  t.same(unknownEnv({ OUTPOST_PROT: '1', OUTPOST_PORT: '2', OUTPOST_CONFIG: 'x', HOME: '/root' }), ['OUTPOST_PROT'])
})

t.test('help and the README table cover every setting', async t => {
  const help = renderOptionsHelp()
  const table = renderConfigTable()
  for (const s of settings) {
    t.match(help, `--${s.flag}`, `help: --${s.flag}`)
    t.match(help, s.env, `help: ${s.env}`)
    t.match(table, `\`${s.key}\``, `table: ${s.key}`)
    t.match(table, `\`${s.env}\``, `table: ${s.env}`)
  }
  t.match(help, '--config FILE')
  t.match(table, '`--community ID\\|FILE`', 'pipes escaped in cells')
  const rows = table.trim().split('\n')
  t.equal(rows.length, settings.length + 3, 'header, rule, --config, one row per setting')
  t.ok(rows.every(r => r.startsWith('| ') && r.endsWith(' |') || r === '|---|---|---|---|---|'))
})
