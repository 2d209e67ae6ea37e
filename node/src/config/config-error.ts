/** A setting is missing, malformed or out of range. The message is one line naming the setting. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG'
  /** The setting as the user wrote it: `--port`, `OUTPOST_PORT`, `limits.maxTags`, ... */
  readonly setting: string

  constructor (setting: string, message: string) {
    // one line: these go straight to stderr and journald
    super(message.replace(/\s*\n\s*/g, ' '))
    this.name = 'ConfigError'
    this.setting = setting
  }
}
