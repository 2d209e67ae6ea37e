import { pino } from 'pino'
import type { Config } from './config/types.js'

export type Logger = pino.Logger

export interface LoggerOptions {
  level: Config['logLevel']
  /** Human-readable lines through a pino-pretty worker instead of JSON lines. */
  pretty: boolean
  /** Logger name, `outpost` unless told. */
  name?: string
  /** Where JSON lines go instead of stdout (tests); `pretty` is ignored then. */
  destination?: pino.DestinationStream
}

/**
 * The node's root logger: JSON lines on stdout (journald keeps them), pretty in development.
 * Subsystems take a child: `log.child({ scope: 'store' })`.
 */
export function createLogger (opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = { level: opts.level, name: opts.name ?? 'outpost' }
  if (opts.destination !== undefined) return pino(options, opts.destination)
  if (!opts.pretty) return pino(options)
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: { destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }
    }
  })
}
