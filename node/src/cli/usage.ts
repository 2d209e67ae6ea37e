import { renderOptionsHelp } from '../config/render.js'
import { COMMUNITY_USAGE } from '../sync/community-usage.js'

export const COMMANDS = ['start', 'reindex', 'config', 'community', 'help'] as const
export type Command = typeof COMMANDS[number]

export function mainUsage (): string {
  return `Usage: outpost <command> [options]

Offline Nostr relay and mesh node for Raspberry Pi hotspots.

Commands:
  start      Run the node: relay, web client and sync
  reindex    Rebuild the index from the logs
  config     Print the effective configuration as JSON
  community  Create a community, share it, admit nodes
  help       Show this help, or a command's: outpost help start

Options:
  -h, --help     Show help
  -v, --version  Print the version

Run "outpost <command> --help" for a command's options.
`
}

export function startUsage (): string {
  return `Usage: outpost start [options]

Run the node until SIGINT or SIGTERM.

${renderOptionsHelp()}
`
}

export function reindexUsage (): string {
  return `Usage: outpost reindex [--config FILE] [--data DIR]

Rebuild the index from the logs of the data directory. Stop the node first.
Takes the same options as "outpost start" (see outpost start --help); only the
data directory, store and logging settings matter here.
`
}

export function configUsage (): string {
  return `Usage: outpost config [options] [--markdown]

Print the effective configuration as JSON: defaults, then the config file, the
OUTPOST_* environment and the flags, exactly as "outpost start" would see them.
Takes the same options as "outpost start" (see outpost start --help).

  --markdown    Print the configuration table of the README instead
`
}

export function usageOf (command: Command): string {
  switch (command) {
    case 'start': return startUsage()
    case 'reindex': return reindexUsage()
    case 'config': return configUsage()
    case 'community': return COMMUNITY_USAGE
    case 'help': return mainUsage()
  }
}
