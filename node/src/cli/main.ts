import type { pino } from 'pino'
import { ConfigError } from '../config/config-error.js'
import { loadConfig } from '../config/load.js'
import { renderConfigTable } from '../config/render.js'
import { unknownEnv } from '../config/schema.js'
import type { Config } from '../config/types.js'
import { createLogger } from '../log.js'
import type { Logger } from '../log.js'
import { createSdNotifier } from '../system/sd-notify.js'
import { runNode } from './run-node.js'
import type { ProcessEvents, RunningNode } from './run-node.js'
import { COMMANDS, mainUsage, usageOf } from './usage.js'
import type { Command } from './usage.js'
import { packageVersion } from './version.js'

export type StartNode = (config: Config, opts: { log: Logger }) => Promise<RunningNode>
export type ReindexStore = (config: Config, opts: { log: Logger }) => Promise<{ events: number, logs: number, ms: number }>

/** The outside world of the CLI; tests replace parts of it. */
export interface CliIo {
  stdout: { write (chunk: string): unknown }
  stderr: { write (chunk: string): unknown }
  cwd: string
  /** Whether stdout is a terminal (pretty logs by default). */
  isTTY: boolean
  /** Signals and fatal errors of `outpost start`. */
  process: ProcessEvents
  /** Log sink instead of stdout (JSON lines). */
  logDestination?: pino.DestinationStream
  /** Defaults to ../node.js, loaded only when needed so help and config stay light. */
  startNode?: StartNode
  /** Defaults to ../store/reindex.js. */
  reindexStore?: ReindexStore
}

/** Exit codes: 0 done, 1 failed, 2 bad usage or configuration. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** The `outpost` command line. Resolves the exit code; only bin/outpost.js exits the process. */
export async function main (argv: string[], env: Record<string, string | undefined>, io: Partial<CliIo> = {}): Promise<number> {
  const cli: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    cwd: io.cwd ?? process.cwd(),
    isTTY: io.isTTY ?? process.stdout.isTTY === true,
    process: io.process ?? process,
    ...(io.logDestination === undefined ? {} : { logDestination: io.logDestination }),
    ...(io.startNode === undefined ? {} : { startNode: io.startNode }),
    ...(io.reindexStore === undefined ? {} : { reindexStore: io.reindexStore })
  }
  const [first, ...rest] = argv

  if (first === undefined || first === '--help' || first === '-h') {
    cli.stdout.write(mainUsage())
    return EXIT_OK
  }
  if (first === '--version' || first === '-v') {
    cli.stdout.write(packageVersion() + '\n')
    return EXIT_OK
  }
  if (!isCommand(first)) {
    cli.stderr.write(`outpost: unknown command "${first}" (commands: ${COMMANDS.join(', ')}; see outpost --help)\n`)
    return EXIT_USAGE
  }
  if (first === 'help') {
    const topic = rest[0]
    if (topic === undefined) cli.stdout.write(mainUsage())
    else if (isCommand(topic)) cli.stdout.write(usageOf(topic))
    else {
      cli.stderr.write(`outpost help: unknown command "${topic}"\n`)
      return EXIT_USAGE
    }
    return EXIT_OK
  }
  if (wantsHelp(rest)) {
    cli.stdout.write(usageOf(first))
    return EXIT_OK
  }

  try {
    switch (first) {
      case 'start': return await start(rest, env, cli)
      case 'reindex': return await reindex(rest, env, cli)
      case 'config': return configCommand(rest, env, cli)
      case 'community': return await communityCli(rest, cli)
    }
  } catch (err) {
    return report(err, cli)
  }
}

async function communityCli (args: string[], cli: CliIo): Promise<number> {
  const { communityCommand, CommunityUsageError } = await import('../sync/community-cli.js')
  try {
    return await communityCommand(args, { stdout: cli.stdout, cwd: cli.cwd })
  } catch (err) {
    if (!(err instanceof CommunityUsageError)) throw err
    cli.stderr.write(err.message.endsWith('\n') ? err.message : err.message + '\n')
    return EXIT_USAGE
  }
}

function isCommand (s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s)
}

function wantsHelp (args: string[]): boolean {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some(a => a === '--help' || a === '-h')
}

/** One line on stderr; the exit code follows from the kind of error. */
function report (err: unknown, cli: CliIo): number {
  if (err instanceof ConfigError) {
    cli.stderr.write(err.message + '\n')
    return EXIT_USAGE
  }
  const e = err as { code?: unknown, message?: unknown, stack?: unknown }
  if (typeof e?.code === 'string' && typeof e.message === 'string') {
    // coded errors are expected failures (ERR_LOCKED, ...): the message is enough
    cli.stderr.write(`${e.message.replace(/\s*\n\s*/g, ' ')}\n`)
  } else {
    // a bug: keep the stack
    cli.stderr.write(`${String(e?.stack ?? err)}\n`)
  }
  return EXIT_FAILURE
}

function load (args: string[], env: Record<string, string | undefined>, cli: CliIo): Config {
  return loadConfig({ argv: args, env, cwd: cli.cwd, isTTY: cli.isTTY })
}

function logger (config: Config, env: Record<string, string | undefined>, cli: CliIo): Logger {
  const log = createLogger({
    level: config.logLevel,
    pretty: config.logPretty,
    ...(cli.logDestination === undefined ? {} : { destination: cli.logDestination })
  })
  const unknown = unknownEnv(env)
  if (unknown.length > 0) log.warn({ variables: unknown }, 'ignoring unknown OUTPOST_* environment variables')
  return log
}

async function start (args: string[], env: Record<string, string | undefined>, cli: CliIo): Promise<number> {
  const config = load(args, env, cli)
  const log = logger(config, env, cli)
  const startNode = cli.startNode ?? (await import('../node.js')).startNode
  log.info({ version: packageVersion(), dataDir: config.dataDir, role: config.role }, 'starting')
  return await runNode({
    start: async () => await startNode(config, { log }),
    log,
    events: cli.process,
    notify: createSdNotifier({ env, log }),
    onStartError: err => {
      log.error({ err }, 'start failed')
      return report(err, cli)
    }
  })
}

async function reindex (args: string[], env: Record<string, string | undefined>, cli: CliIo): Promise<number> {
  const config = load(args, env, cli)
  const log = logger(config, env, cli)
  const reindexStore = cli.reindexStore ?? (await import('../store/reindex.js')).reindexStore
  const { events, logs, ms } = await reindexStore(config, { log })
  cli.stdout.write(`reindexed ${events} events from ${logs} logs in ${ms} ms\n`)
  return EXIT_OK
}

function configCommand (args: string[], env: Record<string, string | undefined>, cli: CliIo): number {
  if (args.includes('--markdown')) {
    cli.stdout.write(renderConfigTable())
    return EXIT_OK
  }
  cli.stdout.write(JSON.stringify(load(args, env, cli), null, 2) + '\n')
  return EXIT_OK
}
