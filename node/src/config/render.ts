import { CONFIG_ENV, CONFIG_FLAG, GROUP_TITLES, settings } from './schema.js'
import type { Setting, SettingGroup } from './schema.js'
import { isList } from './values.js'

const WIDTH = 80
const FLAG_COLUMN = 28

/** `--port N`, `--lan, --no-lan`, `--peer HOST:PORT...` */
export function flagUsage (s: Setting): string {
  if (s.kind.type === 'boolean') return `--${s.flag}, --no-${s.flag}`
  const usage = `--${s.flag} ${s.arg ?? 'VALUE'}`
  return isList(s.kind) ? usage + '...' : usage
}

/** The default as a person reads it. */
export function defaultText (s: Setting): string {
  if (s.defaultDoc !== undefined) return s.defaultDoc
  return String(s.default({ cwd: '.', isTTY: false }))
}

function groups (): Array<[SettingGroup, Setting[]]> {
  const out = new Map<SettingGroup, Setting[]>()
  for (const s of settings) {
    const list = out.get(s.group) ?? []
    list.push(s)
    out.set(s.group, list)
  }
  return [...out]
}

function wrap (text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines
}

function entry (usage: string, doc: string): string[] {
  const pad = ' '.repeat(FLAG_COLUMN)
  const body = wrap(doc, WIDTH - FLAG_COLUMN)
  const head = `  ${usage}`
  const lines = head.length < FLAG_COLUMN
    ? [head.padEnd(FLAG_COLUMN) + (body.shift() ?? '')]
    : [head]
  for (const l of body) lines.push(pad + l)
  return lines.map(l => l.trimEnd())
}

/** The options part of `outpost start --help`, generated from the schema. */
export function renderOptionsHelp (): string {
  const out: string[] = [
    'Every option can also be set in the environment (OUTPOST_*) or in a JSON config',
    'file; flags override the environment, which overrides the file, which overrides',
    'the defaults. Lists repeat as flags and are comma-separated in the environment.',
    '',
    'Config',
    ...entry(`--${CONFIG_FLAG} FILE`, `JSON config file, nested like {"port": 80, "limits": {"maxTags": 100}}. Env ${CONFIG_ENV}.`)
  ]
  for (const [group, list] of groups()) {
    out.push('', GROUP_TITLES[group])
    for (const s of list) {
      out.push(...entry(flagUsage(s), `${s.doc} Env ${s.env}, file ${s.key}, default ${defaultText(s)}.`))
    }
  }
  return out.join('\n')
}

const cell = (s: string): string => s.replace(/\|/g, '\\|')
const code = (s: string): string => '`' + cell(s) + '`'

/** The README's configuration table (markdown), generated from the schema. */
export function renderConfigTable (): string {
  const rows = [
    '| Config file key | Flag | Environment | Default | Description |',
    '|---|---|---|---|---|',
    `| | ${code(`--${CONFIG_FLAG} FILE`)} | ${code(CONFIG_ENV)} | | JSON config file (nested: \`{"limits": {"maxTags": 100}}\`). Unknown keys are an error. |`
  ]
  for (const s of settings) {
    const flags = s.kind.type === 'boolean'
      ? `${code(`--${s.flag}`)} / ${code(`--no-${s.flag}`)}`
      : code(flagUsage(s))
    const def = s.defaultDoc === undefined ? code(defaultText(s)) : cell(s.defaultDoc)
    rows.push(`| ${code(s.key)} | ${flags} | ${code(s.env)} | ${def} | ${cell(s.doc)} |`)
  }
  return rows.join('\n') + '\n'
}
