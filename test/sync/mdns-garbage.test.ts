import t from 'tap'
import { createLab, netnsUnavailable } from '../helpers/netns.js'
import { events, ID_A, ID_B, isPeer, startDiscovery, startRaw, type DiscoveryLine, type PeerLine } from './mdns-lab.js'

const skip = netnsUnavailable()
const TYPE = '_outpost._tcp.local'

/** A response advertising `name` with these TXT strings (and SRV port / A records). */
function service (name: string, txt: unknown[], opts: { port?: number, a?: string[], ptrOnly?: boolean } = {}): unknown {
  const fqdn = `${name}.${TYPE}`
  const host = `${name}.local`
  if (opts.ptrOnly === true) return { answers: [{ name: TYPE, type: 'PTR', ttl: 120, data: fqdn }] }
  return {
    answers: [{ name: TYPE, type: 'PTR', ttl: 120, data: fqdn }],
    additionals: [
      { name: fqdn, type: 'SRV', ttl: 120, data: { priority: 0, weight: 0, port: opts.port ?? 7009, target: host } },
      { name: fqdn, type: 'TXT', ttl: 120, data: txt },
      ...(opts.a ?? []).map(ip => ({ name: host, type: 'A', ttl: 120, data: ip }))
    ]
  }
}

const good = (port = 7009): string[] => [`id=${ID_A}`, 'v=1', `port=${port}`]

// Datagrams no DNS decoder should accept: short, truncated, a compression loop, a TXT overrunning the packet.
const RAW = [
  'deadbeef',
  '000084000000000100000000',
  '000084000000000100000000c00c000c000100000078' + '0002c00c',
  '000084000000000100000000' + '085f6f7574706f7374045f746370056c6f63616c00' + '00100001000000780040' + '0569643d3031',
  '00000000000100000000000000' // a query with a question cut short
]

t.test('garbage and malformed TXT records are ignored and crash nothing', { skip: skip ?? false }, async t => {
  const lab = await createLab(t)
  const br = await lab.bridge()
  const [a, r, b] = await Promise.all(['a', 'raw', 'b'].map((label, i) =>
    lab.host(label, [{ bridge: br, ifname: 'eth0', cidr: `10.99.6.${i + 1}/24` }])))
  if (a === undefined || r === undefined || b === undefined) throw new Error('unreachable')

  const node = await startDiscovery(lab, a, { discoveryId: ID_A, protocol: 1, syncPort: 7001, name: 'node-a', ttl: 3 }, 'debug')
  const junk: Array<[string, unknown]> = [
    ['no-equals', service('no-equals', ['garbage', 'id', '=', 'v1'])],
    ['bad-id', service('bad-id', ['id=not-hex!', 'v=1', 'port=7009'])],
    ['short-id', service('short-id', ['id=abc', 'v=1', 'port=7009'])],
    ['bad-port', service('bad-port', [`id=${ID_A}`, 'v=1', 'port=99999'], { port: 7009 })],
    ['bad-version', service('bad-version', [`id=${ID_A}`, 'v=abc', 'port=7009'])],
    ['binary', service('binary', [{ $b64: Buffer.from([0xff, 0x00, 0x3d, 0xc3, 0x28, 0x0a]).toString('base64') }, { $b64: Buffer.alloc(200, 0xfe).toString('base64') }])],
    ['port-mismatch', service('port-mismatch', good(7010), { port: 7011 })],
    ['first-key-wins', service('first-key-wins', [`id=${ID_B}`, `id=${ID_A}`, 'v=1', 'port=7009'])],
    ['ptr-only', service('ptr-only', good(), { ptrOnly: true })],
    ['spoofed-self', service('node-a', good(7001), { a: ['10.99.6.2'] })]
  ]
  const valid = [
    service('raw-good', good(7009), { a: ['10.99.6.9'] }),
    // an A record off this link: dial the address the answer came from instead
    service('raw-offlink', good(7008), { port: 7008, a: ['192.0.2.1'] })
  ]
  const raw = await startRaw(lab, r, { address: '10.99.6.2', packets: [...junk.map(([, p]) => p), ...valid], raw: RAW })

  const reasons: Record<string, RegExp> = {
    'no-equals': /discovery id/,
    'bad-id': /discovery id/,
    'short-id': /discovery id/,
    'bad-port': /port/,
    'bad-version': /protocol version/,
    binary: /discovery id/,
    'port-mismatch': /TXT port differs/,
    'first-key-wins': /^another discovery id$/
  }
  for (const [name, reason] of Object.entries(reasons)) {
    const line = await node.waitForJson<DiscoveryLine>(v => v.event === 'ignored' && v.name === name).catch(err => { t.comment(raw.output()); throw err })
    t.match(line, { reason, from: '10.99.6.2' }, `${name}: ignored (${(line as { reason: string }).reason})`)
  }
  await node.waitForStderr(line => line.includes('mDNS packet dropped'))
  t.pass('undecodable datagrams arrived and were dropped')
  t.match(await node.waitForJson<PeerLine>(isPeer('raw-good')), { host: '10.99.6.9', port: 7009 }, 'a valid service among the junk is found, at its advertised address')
  t.match(await node.waitForJson<PeerLine>(isPeer('raw-offlink')), { host: '10.99.6.2', port: 7008 }, 'an off-link A record falls back to the source address')

  // still working: a real peer that starts now is found, and the node closes cleanly
  const peer = await startDiscovery(lab, b, { discoveryId: ID_A, protocol: 1, syncPort: 7003, name: 'node-b', ttl: 3 })
  t.match(await node.waitForJson<PeerLine>(isPeer('node-b')), { host: '10.99.6.3', port: 7003 })
  await peer.stop()
  t.ok(node.proc.exitCode === null && node.proc.signalCode === null, 'node-a is still running')
  t.same(events(node).filter(v => v.event === 'peer').map(v => (v as PeerLine).name).sort(), ['node-b', 'raw-good', 'raw-offlink'],
    'only the valid services were reported (not the PTR without SRV, not a spoof of our own name)')
  t.equal(await node.stop('SIGTERM'), 0, 'exits cleanly')
  t.notMatch(node.output(), /"level":(50|60)|packet handling failed/, 'no error logged, no handler threw')
  await raw.stop()
})
