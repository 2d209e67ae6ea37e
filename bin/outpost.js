#!/usr/bin/env node
// The only place that touches the real process: argv, env and the exit code.
import { main } from '../dist/cli/main.js'

process.exit(await main(process.argv.slice(2), process.env))
