import t from 'tap'
import { ensureBuilt } from '../helpers/node-process.js'
import { execFile } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../../node/src/cli/main.js'
import type { CliIo, ReindexStore, StartNode } from '../../node/src/cli/main.js'
import type { RunningNode } from '../../node/src/cli/run-node.js'
import { settings } from '../../node/src/config/schema.js'
import type { Config } from '../../node/src/config/types.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

interface Run {
  code: Promise<number>
  out: () => string
  err: () => string
  logs: Array<Record<string, unknown>>
  /** Resolves with the first log line whose msg is `msg`. */
  logged: (msg: string) => Promise<Record<string, unknown>>
  events: EventEmitter
}

function run (argv: string[], opts: { env?: Record<string, string>, io?: Partial<CliIo> } = {}): Run {
  let out = ''
  let err = ''
  const logs: Array<Record<string, unknown>> = []
  const waiting: Array<{ msg: string, resolve: (line: Record<string, unknown>) => void }> = []
  const events = new EventEmitter()
  const code = main(argv, opts.env ?? {}, {
    stdout: { write: (s: string) => { out += s } },
    stderr: { write: (s: string) => { err += s } },
    cwd: '/work/outpost',
    isTTY: false,
    process: events,
    logDestination: {
      write: (s: string) => {
        const line = JSON.parse(s) as Record<string, unknown>
        logs.push(line)
        for (const w of waiting.filter(w => w.msg === line['msg'])) w.resolve(line)
      }
    },
    ...opts.io
  })
  const logged = async (msg: string): Promise<Record<string, unknown>> => {
    const seen = logs.find(l => l['msg'] === msg)
    if (seen !== undefined) return seen
    return await new Promise(resolve => { waiting.push({ msg, resolve }) })
  }
  return { code, out: () => out, err: () => err, logs, logged, events }
}

/** A node whose close() the test finishes by hand. */
function fakeNode (): { startNode: StartNode, started: Promise<Config>, closes: number[], finishClose: () => void } {
  let finishClose = (): void => {}
  const closing = new Promise<void>(resolve => { finishClose = resolve })
  const closes: number[] = []
  let onStart = (_: Config): void => {}
  const started = new Promise<Config>(resolve => { onStart = resolve })
  const startNode: StartNode = async (config, { log }) => {
    log.info('fake node up')
    onStart(config)
    const node: RunningNode = {
      address: { host: config.host, port: config.port },
      close: async () => {
        closes.push(Date.now())
        await closing
      }
    }
    return node
  }
  return { startNode, started, closes, finishClose: () => { finishClose() } }
}

t.test('no arguments, --help and help print the usage', async t => {
  for (const argv of [[], ['--help'], ['-h'], ['help']]) {
    const r = run(argv)
    t.equal(await r.code, 0, argv.join(' '))
    t.match(r.out(), /^Usage: outpost <command>/)
    for (const c of ['start', 'reindex', 'config']) t.match(r.out(), `  ${c} `)
    t.equal(r.err(), '')
  }
})

t.test('--version prints the package version', async t => {
  const r = run(['--version'])
  t.equal(await r.code, 0)
  t.equal(r.out(), VERSION + '\n')
})

t.test('an unknown command is a usage error', async t => {
  const r = run(['strat'])
  t.equal(await r.code, 2)
  t.match(r.err(), /^outpost: unknown command "strat"/)
  t.equal(r.out(), '')
  const h = run(['help', 'strat'])
  t.equal(await h.code, 2)
})

t.test('start --help lists every flag and variable of the schema', async t => {
  for (const argv of [['start', '--help'], ['help', 'start'], ['start', '--port', 'x', '-h']]) {
    const r = run(argv)
    t.equal(await r.code, 0, argv.join(' '))
    const help = r.out()
    t.match(help, /^Usage: outpost start/)
    t.match(help, '--config FILE')
    for (const s of settings) {
      t.match(help, `--${s.flag}`)
      t.match(help, s.env)
      if (s.kind.type === 'boolean') t.match(help, `--no-${s.flag}`)
    }
  }
})

t.test('every command has its own --help', async t => {
  for (const [command, first] of [['reindex', /^Usage: outpost reindex/], ['config', /^Usage: outpost config/]] as const) {
    const r = run([command, '--help'])
    t.equal(await r.code, 0)
    t.match(r.out(), first)
  }
})

t.test('a bad setting exits 2 with one line on stderr, before anything starts', async t => {
  const node = fakeNode()
  const cases: Array<[string[], Record<string, string>, string]> = [
    [['start', '--port', 'abc'], {}, '--port: must be an integer 0-65535, got "abc"\n'],
    [['start'], { OUTPOST_SWARM: 'maybe' }, 'OUTPOST_SWARM: must be one of auto, on, off, got "maybe"\n'],
    [['start', '--peer', 'nope'], {}, '--peer: must be HOST:PORT (port 1-65535), got "nope"\n'],
    [['start', '--frobnicate'], {}, '--frobnicate: unknown option\n'],
    [['reindex', '--data'], {}, '--data: needs a value\n'],
    [['config', '--role', 'server'], {}, '--role: must be one of hotspot, relay, got "server"\n'],
    [['start', '--config', '/nonexistent/outpost.json'], {}, '--config: cannot read config file /nonexistent/outpost.json: no such file\n']
  ]
  for (const [argv, env, line] of cases) {
    const r = run(argv, { env, io: { startNode: node.startNode } })
    t.equal(await r.code, 2, argv.join(' '))
    t.equal(r.err(), line)
    t.equal(r.out(), '')
  }
  t.equal(node.closes.length, 0)
})

t.test('config prints the effective configuration as JSON', async t => {
  const r = run(['config', '--port', '9000', '--peer', 'a:1', '--peer', 'b:2'], { env: { OUTPOST_LAN: 'true' } })
  t.equal(await r.code, 0)
  const config = JSON.parse(r.out()) as Config
  t.equal(config.port, 9000)
  t.same(config.peers, ['a:1', 'b:2'])
  t.equal(config.lan, true)
  t.equal(config.dataDir, '/work/outpost/data')
  t.equal(config.limits.maxEventBytes, 65536)
})

t.test('config --markdown prints the README table', async t => {
  const r = run(['config', '--markdown'])
  t.equal(await r.code, 0)
  t.match(r.out(), /^\| Config file key \| Flag \| Environment \| Default \| Description \|\n/)
  t.equal(r.out().trim().split('\n').length, settings.length + 3)
})

t.test('start runs the node until SIGTERM, then closes it and exits 0', async t => {
  const node = fakeNode()
  const r = run(['start', '--port', '0', '--name', 'Camp'], { io: { startNode: node.startNode } })
  const config = await node.started
  t.equal(config.port, 0)
  t.equal(config.name, 'Camp')
  const started = await r.logged('started')
  t.same(started['address'], { host: '127.0.0.1', port: 0 })
  t.equal(r.events.listenerCount('SIGTERM'), 1)

  r.events.emit('SIGTERM', 'SIGTERM')
  await r.logged('closing')
  t.equal(node.closes.length, 1, 'close called once')
  node.finishClose()
  t.equal(await r.code, 0)
  await r.logged('closed')
  for (const e of ['SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection']) {
    t.equal(r.events.listenerCount(e), 0, `${e} listener removed`)
  }
})

t.test('a node that asks for a restart (its storage must be reopened) is closed and started again in the same process', async t => {
  const starts: Array<(why: string) => void> = []
  let closes = 0
  const startNode: StartNode = async config => {
    let ask = (_: string): void => {}
    const restartRequested = new Promise<string>(resolve => { ask = resolve })
    starts.push(ask)
    const node: RunningNode = { address: { host: config.host, port: starts.length }, close: async () => { closes++ }, restartRequested }
    return node
  }
  const r = run(['start'], { io: { startNode } })
  await r.logged('started')
  starts[0]?.('a write failed for want of space; space is back')
  const line = await r.logged('restarting the node in this process to reopen its storage')
  t.match(line['reason'], /want of space/)
  while (starts.length < 2) await new Promise(resolve => setImmediate(resolve))
  t.equal(closes, 1, 'the first node was closed before the second started')
  starts[0]?.('again') // a stale request of the closed node does nothing
  r.events.emit('SIGTERM', 'SIGTERM')
  t.equal(await r.code, 0)
  t.equal(closes, 2, 'the restarted node is closed on SIGTERM')
  t.equal(starts.length, 2)
})

t.test('a second signal during close exits 1 at once', async t => {
  const node = fakeNode()
  const r = run(['start'], { io: { startNode: node.startNode } })
  await r.logged('started')
  r.events.emit('SIGINT', 'SIGINT')
  r.events.emit('SIGINT', 'SIGINT')
  t.equal(await r.code, 1)
  t.equal(node.closes.length, 1)
  await r.logged('second signal: exiting without a clean close')
  node.finishClose()
})

t.test('a signal during startup closes the node once it is up', async t => {
  let up = (): void => {}
  const gate = new Promise<void>(resolve => { up = resolve })
  let closed = 0
  const startNode: StartNode = async config => {
    await gate
    return { address: { host: config.host, port: config.port }, close: async () => { closed++ } }
  }
  const r = run(['start'], { io: { startNode } })
  await r.logged('starting')
  r.events.emit('SIGTERM', 'SIGTERM')
  t.equal(closed, 0)
  up()
  t.equal(await r.code, 0)
  t.equal(closed, 1)
})

t.test('a coded start failure (ERR_LOCKED) prints its message and exits 1', async t => {
  const startNode: StartNode = async () => {
    throw Object.assign(new Error('data dir /d is in use by another node (pid 42)'), { code: 'ERR_LOCKED' })
  }
  const r = run(['start'], { io: { startNode } })
  t.equal(await r.code, 1)
  t.equal(r.err(), 'data dir /d is in use by another node (pid 42)\n')
  const failed = await r.logged('start failed')
  t.equal((failed['err'] as { code: string }).code, 'ERR_LOCKED')
  t.equal(r.events.listenerCount('SIGINT'), 0)
})

t.test('an uncoded start failure keeps its stack', async t => {
  const startNode: StartNode = async () => { throw new TypeError('boom') }
  const r = run(['start'], { io: { startNode } })
  t.equal(await r.code, 1)
  t.match(r.err(), /^TypeError: boom\n\s+at /)
})

t.test('an uncaught exception or unhandled rejection is logged fatal and exits 1', async t => {
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    const node = fakeNode()
    const r = run(['start'], { io: { startNode: node.startNode } })
    await r.logged('started')
    r.events.emit(event, new Error(`lost ${event}`))
    t.equal(await r.code, 1, event)
    const fatal = await r.logged('uncaught error')
    t.equal(fatal['level'], 60)
    t.match((fatal['err'] as { message: string }).message, `lost ${event}`)
    node.finishClose()
  }
})

t.test('unknown OUTPOST_* variables are warned about', async t => {
  const node = fakeNode()
  const r = run(['start'], { env: { OUTPOST_PROT: '1' }, io: { startNode: node.startNode } })
  const warning = await r.logged('ignoring unknown OUTPOST_* environment variables')
  t.same(warning['variables'], ['OUTPOST_PROT'])
  await r.logged('started')
  r.events.emit('SIGTERM', 'SIGTERM')
  node.finishClose()
  t.equal(await r.code, 0)
})

t.test('log level comes from the config', async t => {
  const node = fakeNode()
  const r = run(['start', '--log-level', 'warn'], { io: { startNode: node.startNode } })
  await node.started
  r.events.emit('SIGTERM', 'SIGTERM')
  node.finishClose()
  t.equal(await r.code, 0)
  t.same(r.logs, [], 'nothing below warn')
})

t.test('reindex prints a summary', async t => {
  let seen: Config | null = null
  const reindexStore: ReindexStore = async config => {
    seen = config
    return { events: 1234, logs: 3, ms: 56 }
  }
  const r = run(['reindex', '--data', '/srv/outpost'], { io: { reindexStore } })
  t.equal(await r.code, 0)
  t.equal(r.out(), 'reindexed 1234 events from 3 logs in 56 ms\n')
  t.equal((seen as Config | null)?.dataDir, '/srv/outpost')
})

t.test('a coded reindex failure exits 1 with its message', async t => {
  const reindexStore: ReindexStore = async () => {
    throw Object.assign(new Error('data dir is locked'), { code: 'ERR_LOCKED' })
  }
  const r = run(['reindex'], { io: { reindexStore } })
  t.equal(await r.code, 1)
  t.equal(r.err(), 'data dir is locked\n')
})

// The real binary, for what needs no node: it runs dist/, built when stale.
async function exec (file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  return await new Promise(resolve => {
    execFile(file, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

t.test('bin/outpost.js', async t => {
  const built = join(ROOT, 'dist', 'cli', 'main.js')
  ensureBuilt()
  t.ok(existsSync(built), 'dist/cli/main.js built')
  const bin = join(ROOT, 'bin', 'outpost.js')

  t.test('--help exits 0 with the usage', async t => {
    const r = await exec(bin, ['--help'])
    t.equal(r.code, 0)
    t.match(r.stdout, /^Usage: outpost <command>/)
  })

  t.test('an invalid setting exits 2 with one stderr line', async t => {
    const r = await exec(bin, ['start', '--port', 'abc'])
    t.equal(r.code, 2)
    t.equal(r.stderr, '--port: must be an integer 0-65535, got "abc"\n')
    t.equal(r.stdout, '')
  })

  t.test('the environment reaches the config', async t => {
    const bad = await exec(bin, ['config'], { OUTPOST_SWARM: 'maybe' })
    t.equal(bad.code, 2)
    t.equal(bad.stderr, 'OUTPOST_SWARM: must be one of auto, on, off, got "maybe"\n')
    const good = await exec(bin, ['config', '--no-lan'], { OUTPOST_PORT: '9001' })
    t.equal(good.code, 0)
    t.equal((JSON.parse(good.stdout) as Config).port, 9001)
  })
})
