import { isIP } from 'node:net'

/** How a setting's value is written and checked. */
export type Kind =
  | { type: 'int', min: number, max: number }
  | { type: 'boolean' }
  | { type: 'enum', values: readonly string[] }
  | { type: 'host' }
  | { type: 'name' }
  | { type: 'path' }
  | { type: 'community' }
  | { type: 'hostPortList' }
  | { type: 'optionalHost' }
  | { type: 'hostList' }
  | { type: 'text', max: number }
  | { type: 'optionalPath' }
  | { type: 'interfaceList' }
  /** A size in MiB (the value), written as MiB or with a unit: 64, 512K, 64M, 1.5G, 64MiB. */
  | { type: 'mib', max: number }

/** Kinds whose flag repeats and whose environment value is comma-separated. */
export function isList (kind: Kind): kind is { type: 'hostPortList' } | { type: 'hostList' } | { type: 'interfaceList' } {
  return kind.type === 'hostPortList' || kind.type === 'hostList' || kind.type === 'interfaceList'
}

/** A value was rejected; `reason` reads after the setting name ("must be ..."). */
export class InvalidValue extends Error {
  readonly reason: string
  /** The offending value (a list element rather than the whole list). */
  readonly value: unknown

  constructor (reason: string, value: unknown) {
    super(reason)
    this.reason = reason
    this.value = value
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/
const MAX_NAME = 64

/** What a valid value looks like, for error messages and help. */
export function describeKind (kind: Kind): string {
  switch (kind.type) {
    case 'int':
      if (kind.max === Number.MAX_SAFE_INTEGER) {
        return kind.min === 1 ? 'a positive integer' : kind.min === 0 ? 'a non-negative integer' : `an integer >= ${kind.min}`
      }
      return `an integer ${kind.min}-${kind.max}`
    case 'boolean': return 'true or false'
    case 'enum': return `one of ${kind.values.join(', ')}`
    case 'host': return 'an IP address or host name'
    case 'name': return `1-${MAX_NAME} characters without control characters`
    case 'path': return 'a non-empty path'
    case 'community': return 'a community id or file'
    case 'hostPortList': return 'HOST:PORT (port 1-65535)'
    case 'optionalHost': return 'an IP address or host name (empty = unset)'
    case 'hostList': return 'host names'
    case 'text': return `at most ${kind.max} characters without control characters other than newlines`
    case 'optionalPath': return 'a path (empty = unset)'
    case 'interfaceList': return 'an interface name (1-15 characters, no spaces, \'/\', \':\' or \',\')'
    case 'mib': return 'a size in MiB or with a unit (e.g. 64, 512K, 64M, 1G)'
  }
}

function invalid (kind: Kind, value: unknown): never {
  throw new InvalidValue(`must be ${describeKind(kind)}`, value)
}

/** Parse a value written as text (a flag or an environment variable). Lists are comma-separated. */
export function parseText (kind: Kind, text: string): unknown {
  switch (kind.type) {
    case 'int':
      // digits only: no '1e3', '0x10', '+5' or ' 5' sneaking through Number()
      if (!/^-?\d+$/.test(text)) invalid(kind, text)
      return checkInt(kind, Number(text), text)
    case 'boolean': {
      const t = text.toLowerCase()
      if (TRUE.has(t)) return true
      if (FALSE.has(t)) return false
      return invalid(kind, text)
    }
    case 'community':
      // empty = no community (a private one), so an env file can unset it
      return text === '' ? null : checkValue(kind, text)
    case 'hostPortList':
    case 'hostList':
    case 'interfaceList':
      return checkValue(kind, splitList(text))
    case 'optionalHost':
    case 'optionalPath':
      return text === '' ? null : checkValue(kind, text)
    case 'mib':
      return parseMiB(kind, text)
    default:
      return checkValue(kind, text)
  }
}

/** Comma-separated list; blanks around items and empty items are dropped. */
export function splitList (text: string): string[] {
  return text.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** Check a typed value (from the JSON config file, or already parsed from text). */
export function checkValue (kind: Kind, value: unknown): unknown {
  switch (kind.type) {
    case 'int':
      if (typeof value !== 'number') invalid(kind, value)
      return checkInt(kind, value, value)
    case 'boolean':
      if (typeof value !== 'boolean') invalid(kind, value)
      return value
    case 'enum':
      if (typeof value !== 'string' || !kind.values.includes(value)) invalid(kind, value)
      return value
    case 'host':
      if (typeof value !== 'string' || !isHost(value)) invalid(kind, value)
      return value
    case 'name':
      // eslint-disable-next-line no-control-regex
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(value)) invalid(kind, value)
      return value
    case 'path':
      if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) invalid(kind, value)
      return value
    case 'community':
      if (value === null) return null
      if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) invalid(kind, value)
      return value
    case 'hostPortList':
    case 'interfaceList': {
      const valid = kind.type === 'hostPortList' ? isHostPort : isInterfaceName
      if (!Array.isArray(value)) throw new InvalidValue(`must be a list of ${kind.type === 'hostPortList' ? 'HOST:PORT' : 'interface names'}`, value)
      const out: string[] = []
      for (const item of value) {
        if (typeof item !== 'string' || !valid(item)) invalid(kind, item)
        if (!out.includes(item)) out.push(item)
      }
      return out
    }
    case 'optionalHost':
      if (value === null) return null
      if (typeof value !== 'string' || !isHost(value)) invalid(kind, value)
      return value
    case 'hostList': {
      if (!Array.isArray(value)) throw new InvalidValue('must be a list of host names', value)
      const out: string[] = []
      for (const item of value) {
        if (typeof item !== 'string' || !isHost(item)) invalid({ type: 'host' }, item)
        const name = item.toLowerCase()
        if (!out.includes(name)) out.push(name)
      }
      return out
    }
    case 'text':
      // eslint-disable-next-line no-control-regex
      if (typeof value !== 'string' || value.length > kind.max || /[\u0000-\u0009\u000b-\u001f\u007f]/.test(value)) invalid(kind, value)
      return value
    case 'optionalPath':
      if (value === null) return null
      if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) invalid(kind, value)
      return value
    case 'mib':
      if (typeof value === 'string') return parseMiB(kind, value)
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > kind.max) invalid(kind, value)
      return value
  }
}

const SIZE_UNITS: Record<string, number> = { b: 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }

/** "64" (MiB), "512K", "64M", "64 MiB", "1.5G", "1GB" (units are binary: K = KiB) -> MiB. */
function parseMiB (kind: Kind & { type: 'mib' }, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([bkmgt])(?:i?b)?)?\s*$/i.exec(text)
  if (m === null) invalid(kind, text)
  const unit = SIZE_UNITS[(m[2] ?? 'm').toLowerCase()] as number
  const mib = Number(m[1]) * unit
  if (!Number.isFinite(mib) || mib > kind.max) invalid(kind, text)
  return mib
}

function checkInt (kind: Kind & { type: 'int' }, n: number, shown: unknown): number {
  if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) invalid(kind, shown)
  return n
}

/** An IPv4/IPv6 address or an RFC 1123 host name. */
export function isHost (s: string): boolean {
  if (isIP(s) !== 0) return true
  if (s.length === 0 || s.length > 253) return false
  return s.split('.').every(label => LABEL.test(label))
}

/** `host:port` or `[ipv6]:port`, port 1-65535 (a peer on port 0 cannot be dialled). */
export function isHostPort (s: string): boolean {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]+):(\d{1,5})$/.exec(s)
  if (m === null) return false
  const host = m[1] as string
  const port = Number(m[2])
  if (port < 1 || port > 65535) return false
  return s.startsWith('[') ? isIP(host) === 6 : isHost(host)
}

/** A Linux interface name (IFNAMSIZ - 1 bytes; the kernel refuses '/', ':' and blanks). */
export function isInterfaceName (s: string): boolean {
  return /^[^\s/:,]{1,15}$/.test(s) && s !== '.' && s !== '..'
}

/** A value quoted for an error message, kept short. */
export function show (value: unknown): string {
  let s: string
  try {
    s = value === undefined ? 'nothing' : JSON.stringify(value)
  } catch {
    s = String(value)
  }
  return s.length > 80 ? s.slice(0, 77) + '...' : s
}
