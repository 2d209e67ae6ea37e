// pm2 process file: the alternative to systemd for machines without it (containers, other
// init systems). pm2 is not a dependency of Outpost; install it globally:
//   npm install -g pm2 && pm2-runtime start ecosystem.config.cjs
// Only the node runs under pm2: DHCP/DNS (dnsmasq) and the firewall table are systemd units
// on a provisioned Pi (see README "Deploy on a Raspberry Pi").
const { existsSync } = require('node:fs')
const path = require('node:path')

// a provisioned machine's config; otherwise the node's defaults and OUTPOST_* variables
const CONFIG = process.env.OUTPOST_CONFIG || '/etc/outpost/config.json'

module.exports = {
  apps: [{
    name: 'outpost',
    script: path.join(__dirname, 'bin', 'outpost.js'),
    args: ['start'],
    cwd: __dirname,
    interpreter: 'node',
    // one process per data directory: the node refuses a second one
    exec_mode: 'fork',
    instances: 1,
    autorestart: true,
    restart_delay: 5000,
    max_restarts: 20,
    // SIGINT closes the node cleanly (sockets, then logs and index); give it time
    kill_timeout: 60000,
    env: {
      NODE_ENV: 'production',
      OUTPOST_LOG_PRETTY: 'false',
      ...(existsSync(CONFIG) ? { OUTPOST_CONFIG: CONFIG } : {})
    }
  }]
}
