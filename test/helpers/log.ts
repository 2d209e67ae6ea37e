import { pino, type Logger } from 'pino'

/** A real pino logger that writes nowhere unless OUTPOST_TEST_LOG is set. */
export function testLogger (): Logger {
  return pino({ level: process.env.OUTPOST_TEST_LOG ?? 'silent' })
}
