import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Config } from './types.js'
import { ConfigError } from './config-error.js'
import { CONFIG_ENV, CONFIG_FLAG, settingByFlag, settingByKey, settings } from './schema.js'
import type { DefaultsContext, Setting, SettingKey } from './schema.js'
import { InvalidValue, checkValue, isList, parseText, show } from './values.js'
import { suggest } from './suggest.js'
import { isLoopback } from '../portal/hosts.js'

export interface LoadConfigInput {
  /** Arguments after the command name, e.g. `['--port', '9000']`. */
  argv: string[]
  env: Record<string, string | undefined>
  /** Relative paths from flags and env resolve against this. */
  cwd: string
  /** Whether stdout is a terminal (the default of logPretty). */
  isTTY: boolean
}

/** A community public key in hex (what `--community` takes besides a file). */
const COMMUNITY_KEY = /^[0-9a-f]{64}$/i

// Precedence ranks; a conflict between two settings blames the one set at the higher rank.
const DEFAULT = 0
const FILE = 1
const ENV = 2
const FLAG = 3

interface Source {
  rank: number
  /** `--port`, `OUTPOST_PORT`, `limits.maxTags` or the key path for a default. */
  setting: string
  /** Error message prefix. */
  prefix: string
}

interface FlagValue {
  setting: Setting
  name: string
  value: unknown
}

/**
 * The effective configuration: defaults < config file (`--config` or OUTPOST_CONFIG) <
 * OUTPOST_* env < flags. Throws ConfigError naming the first bad setting.
 */
export function loadConfig (input: LoadConfigInput): Config {
  const { env, cwd } = input
  const ctx: DefaultsContext = { cwd, isTTY: input.isTTY }
  const args = parseArgv(input.argv)
  const values = new Map<SettingKey, unknown>()
  const sources = new Map<SettingKey, Source>()

  const set = (s: Setting, value: unknown, source: Source, base: string): void => {
    values.set(s.key, (s.kind.type === 'path' || s.kind.type === 'optionalPath') && typeof value === 'string' ? resolve(base, value) : value)
    sources.set(s.key, source)
  }

  for (const s of settings) {
    set(s, s.default(ctx), { rank: DEFAULT, setting: s.key, prefix: s.key }, cwd)
  }

  const file = args.configFile ?? (env[CONFIG_ENV] ? { path: env[CONFIG_ENV], setting: CONFIG_ENV } : null)
  if (file !== null) {
    const path = resolve(cwd, file.path)
    for (const [s, value] of readConfigFile(path, file.setting)) {
      // a path in a config file means "next to the file", whatever the service's cwd; so does a
      // community file (a community given by its 64-hex key stays a key)
      const v = s.kind.type === 'community' && typeof value === 'string' && !COMMUNITY_KEY.test(value) ? resolve(dirname(path), value) : value
      set(s, v, { rank: FILE, setting: s.key, prefix: `config file ${path}: ${s.key}` }, dirname(path))
    }
  }

  for (const s of settings) {
    const text = env[s.env]
    if (text === undefined) continue
    set(s, parse(s.env, () => parseText(s.kind, text)), { rank: ENV, setting: s.env, prefix: s.env }, cwd)
  }

  const listsSeen = new Set<SettingKey>()
  for (const { setting: s, name, value } of args.flags) {
    let v = value
    if (isList(s.kind)) {
      // repeated flags add up, but replace whatever lower layers said
      const before = listsSeen.has(s.key) ? values.get(s.key) as string[] : []
      listsSeen.add(s.key)
      v = checkValue(s.kind, [...before, ...(value as string[])])
    }
    set(s, v, { rank: FLAG, setting: name, prefix: name }, cwd)
  }

  crossCheck(values, sources)
  return build(values)
}

/** The embedded defaults: a local development node. */
export function defaultConfig (ctx: DefaultsContext): Config {
  return loadConfig({ argv: [], env: {}, ...ctx })
}

function parse (prefix: string, fn: () => unknown, setting = prefix): unknown {
  try {
    return fn()
  } catch (err) {
    if (err instanceof InvalidValue) throw new ConfigError(setting, `${prefix}: ${err.reason}, got ${show(err.value)}`)
    throw err
  }
}

function parseArgv (argv: string[]): { configFile: { path: string, setting: string } | null, flags: FlagValue[] } {
  let configFile: { path: string, setting: string } | null = null
  const flags: FlagValue[] = []

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (!token.startsWith('--') || token === '--') {
      const what = token.startsWith('-') && token !== '--' ? 'unknown option' : 'unexpected argument'
      const arg = token === '--' ? (argv[i + 1] ?? '--') : token
      throw new ConfigError(arg, `${arg}: ${what} (options are --name VALUE, see --help)`)
    }
    const eq = token.indexOf('=')
    const flag = eq === -1 ? token.slice(2) : token.slice(2, eq)
    const inline = eq === -1 ? undefined : token.slice(eq + 1)
    const name = '--' + flag

    const takeValue = (): string => {
      if (inline !== undefined) return inline
      const next = argv[i + 1]
      // `--data --port 1` is a forgotten value, not a directory named --port
      if (next === undefined || next.startsWith('--')) throw new ConfigError(name, `${name}: needs a value`)
      i++
      return next
    }

    if (flag === CONFIG_FLAG) {
      const path = takeValue()
      if (path === '') throw new ConfigError(name, `${name}: needs a value`)
      configFile = { path, setting: name }
      continue
    }

    const s = settingByFlag(flag)
    if (s !== undefined) {
      const value = s.kind.type === 'boolean' && inline === undefined
        ? true
        : parse(name, () => parseText(s.kind, takeValue()))
      flags.push({ setting: s, name, value })
      continue
    }

    const negated = flag.startsWith('no-') ? settingByFlag(flag.slice(3)) : undefined
    if (negated?.kind.type === 'boolean') {
      if (inline !== undefined) throw new ConfigError(name, `${name}: takes no value`)
      flags.push({ setting: negated, name, value: false })
      continue
    }

    const known = [CONFIG_FLAG, ...settings.flatMap(s => s.kind.type === 'boolean' ? [s.flag, `no-${s.flag}`] : [s.flag])]
    const hint = suggest(flag, known)
    throw new ConfigError(name, `${name}: unknown option${hint === null ? '' : ` (did you mean --${hint}?)`}`)
  }

  return { configFile, flags }
}

function readConfigFile (path: string, setting: string): Array<[Setting, unknown]> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message
    throw new ConfigError(setting, `${setting}: cannot read config file ${path}: ${why}`)
  }

  let json: unknown
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new ConfigError(setting, `config file ${path}: not valid JSON: ${(err as Error).message}`)
  }

  const out: Array<[Setting, unknown]> = []
  const walk = (obj: unknown, at: string): void => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      const key = at === '' ? setting : at
      throw new ConfigError(key, `config file ${path}: ${at === '' ? '' : at + ': '}must be a JSON object, got ${show(obj)}`)
    }
    for (const [k, value] of Object.entries(obj)) {
      const key = at === '' ? k : `${at}.${k}`
      if (at === '' && (k === 'limits' || k === 'store' || k === 'portal')) {
        walk(value, k)
        continue
      }
      const s = settingByKey(key)
      if (s === undefined) {
        const hint = suggest(key, settings.map(s => s.key))
        throw new ConfigError(key, `config file ${path}: ${key}: unknown setting${hint === null ? '' : ` (did you mean ${hint}?)`}`)
      }
      out.push([s, parse(`config file ${path}: ${key}`, () => checkValue(s.kind, value), key)])
    }
  }
  walk(json, '')
  return out
}

// [smaller, larger]: the first must not exceed the second
const ORDER: Array<[SettingKey, SettingKey]> = [
  ['limits.defaultLimit', 'limits.maxLimit'],
  ['limits.maxContentLength', 'limits.maxEventBytes'],
  ['limits.maxEventBytes', 'limits.maxFrameBytes'],
  // one event must fit one log block
  ['limits.maxEventBytes', 'store.commitMaxBytes']
]

function crossCheck (values: Map<SettingKey, unknown>, sources: Map<SettingKey, Source>): void {
  const src = (k: SettingKey): Source => sources.get(k) as Source
  const num = (k: SettingKey): number => values.get(k) as number

  // nobody should have to set default-limit just because they lowered max-limit
  if (src('limits.defaultLimit').rank === DEFAULT) {
    values.set('limits.defaultLimit', Math.min(num('limits.defaultLimit'), num('limits.maxLimit')))
  }

  // a node that only listens on loopback (npm start) keeps its sync port there too, unless it
  // advertises itself on the LAN: nothing of a development node is reachable from the network
  if (src('syncHost').rank === DEFAULT && isLoopbackHost(values.get('host') as string) && values.get('lan') !== true) {
    values.set('syncHost', values.get('host'))
  }

  for (const [small, large] of ORDER) {
    if (num(small) <= num(large)) continue
    if (src(small).rank >= src(large).rank) {
      const s = src(small)
      throw new ConfigError(s.setting, `${s.prefix}: must be at most ${large} (${num(large)}), got ${num(small)}`)
    }
    const s = src(large)
    throw new ConfigError(s.setting, `${s.prefix}: must be at least ${small} (${num(small)}), got ${num(large)}`)
  }

  if (num('port') !== 0 && num('port') === num('syncPort')) {
    const [blamed, other] = src('syncPort').rank >= src('port').rank ? ['syncPort', 'port'] as const : ['port', 'syncPort'] as const
    const s = src(blamed)
    throw new ConfigError(s.setting, `${s.prefix}: must differ from ${other} (${num(other)})`)
  }
}

function isLoopbackHost (host: string): boolean {
  return host === 'localhost' || isLoopback(host)
}

function build (values: Map<SettingKey, unknown>): Config {
  const config: Record<string, unknown> = {}
  for (const [key, value] of values) {
    const dot = key.indexOf('.')
    if (dot === -1) {
      config[key] = value
      continue
    }
    const group = key.slice(0, dot)
    const nested = (config[group] ??= {}) as Record<string, unknown>
    nested[key.slice(dot + 1)] = value
  }
  // schema.ts's mapped type guarantees one value per Config field
  return config as unknown as Config
}
