import t, { type Test } from 'tap'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { loadConfig } from '../../node/src/config/load.js'
import { BIN, spawnNode } from '../helpers/node-process.js'
import { getJson } from './ws-client.js'

const KEY = 'ab'.repeat(32)

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-community-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('a relative community file in a config file is next to the config file; a key stays a key', async t => {
  const dir = await tempDir(t)
  const conf = path.join(dir, 'etc', 'outpost.json')
  await mkdir(path.dirname(conf))
  const load = async (community: unknown, argv: string[] = [], env: Record<string, string> = {}): Promise<string | null> => {
    await writeFile(conf, JSON.stringify({ community }))
    return loadConfig({ argv: ['--config', conf, ...argv], env, cwd: '/somewhere/else', isTTY: false }).community
  }
  t.equal(await load('field.json'), path.join(dir, 'etc', 'field.json'), 'relative: next to the config file')
  t.equal(await load('../keys/field.json'), path.join(dir, 'keys', 'field.json'))
  t.equal(await load('/srv/field.json'), '/srv/field.json', 'absolute: as is')
  t.equal(await load(KEY), KEY, 'a 64-hex key is not a path')
  t.equal(await load(KEY.toUpperCase()), KEY.toUpperCase())
  t.equal(await load(null), null)
  // higher layers keep their own meaning (relative to the cwd the node is started from)
  t.equal(await load('field.json', ['--community', 'mine.json']), 'mine.json')
  t.equal(await load('field.json', [], { OUTPOST_COMMUNITY: KEY }), KEY)
})

t.test('outpost start --config with a relative community file, from another directory, joins that community', async t => {
  const dir = await tempDir(t)
  execFileSync(process.execPath, [BIN, 'community', 'create', '--out', path.join(dir, 'field.json'), '--name', 'Field'])
  const conf = path.join(dir, 'outpost.json')
  await writeFile(conf, JSON.stringify({ community: 'field.json', dataDir: 'data' }))
  // spawnNode runs from the repository root, not from dir
  const n = await spawnNode(t, ['--config', conf])
  const st = await getJson(n.port, '/api/sync')
  t.equal(st.community.name, 'Field', 'the community of the file next to the config')
  t.equal(st.community.admitted, true, 'admitted with its secret')
})
