// The suite's client, pointed at Veil's edge, plus a summary in the suite's own terms.
//
// Run mode: every test of the package (its cli.mjs set: tests/index.mjs + surrogate-control)
// is run by the package's runner against --base. The base URL's hostname is resolved to
// 127.0.0.1 by the HTTP agent itself (no DNS, no /etc/hosts), so the Host the edge sees names
// the zone while every byte stays on loopback; any other hostname is refused.
//
// Summary: each result is classified with the package's own determineTestResult (pass, fail,
// optional_fail, yes/no for informational checks, setup_fail, dependency_fail, ...) and the
// same is done for every published result file bundled in the package (results/*.json), so
// Veil and the published caches are counted by one rule over one test list.
//
//   node client.mjs --base http://cache-tests.localhost:PORT --results R.json --summary S.json [--id TEST]
//   node client.mjs --summarize R.json --summary S.json      (no network: recount a saved run)
import fs from 'fs'
import http from 'http'
import path from 'path'
import { createRequire } from 'module'

import fetch from 'node-fetch'
import { runTests, getResults } from 'http-cache-tests/client/runner.mjs'
import { determineTestResult } from 'http-cache-tests/lib/display.mjs'
import published from 'http-cache-tests/results/index.mjs'
import tests from 'http-cache-tests/tests/index.mjs'
import surrogate from 'http-cache-tests/tests/surrogate-control.mjs'

const require = createRequire(import.meta.url)
const packageDir = path.dirname(require.resolve('http-cache-tests/package.json'))
const packageJson = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'))
const suites = [...tests, surrogate] // the set cli.mjs runs
const REQUEST_TIMEOUT_MS = 30000

const KINDS = ['pass', 'fail', 'optional_fail', 'yes', 'no', 'setup_fail', 'harness_fail',
  'dependency_fail', 'retry', 'untested']
// determineTestResult answers display triples; the third member is the console symbol.
const SYMBOL_KIND = {
  '-': 'untested',
  '✅': 'pass',
  '⛔️': 'fail',
  '⚠️': 'optional_fail',
  Y: 'yes',
  N: 'no',
  '🔹': 'setup_fail',
  '⁉️': 'harness_fail',
  '⚪️': 'dependency_fail',
  '↻': 'retry'
}

function parseArgs (argv) {
  const args = {}
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`bad arguments near ${argv[i]}`)
    }
    args[argv[i].slice(2)] = argv[i + 1]
  }
  return args
}

function loopbackAgent (hostname) {
  const lookup = (name, options, callback) => {
    if (typeof options === 'function') [callback, options] = [options, {}]
    if (name !== hostname && name !== '127.0.0.1') {
      callback(Object.assign(new Error(`refusing to resolve ${name}: loopback only`), { code: 'ENOTFOUND' }))
    } else if (options && options.all) {
      callback(null, [{ address: '127.0.0.1', family: 4 }])
    } else {
      callback(null, '127.0.0.1', 4)
    }
  }
  return new http.Agent({ keepAlive: true, lookup })
}

function selectTests (testId) {
  if (!testId) return suites
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (test.id === testId) {
        test.dump = true // the package's runner then logs both sides of every exchange
        return [{ ...suite, tests: [test] }]
      }
    }
  }
  throw new Error(`no test with id ${testId}`)
}

function classify (results, { browser }) {
  const counts = Object.fromEntries(KINDS.map(kind => [kind, 0]))
  const rows = []
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (!browser && test.browser_only === true) continue
      if (browser && test.browser_skip === true) continue
      const kind = SYMBOL_KIND[determineTestResult(suites, test.id, results)[2]]
      counts[kind] += 1
      const result = results[test.id]
      rows.push({
        id: test.id,
        suite: suite.id,
        name: test.name,
        kind: test.kind || 'required',
        result: kind,
        message: Array.isArray(result) ? `${result[0]}: ${result[1]}` : ''
      })
    }
  }
  return { counts, tests: rows }
}

function summarize (veilResults) {
  const implementations = published.map(item => {
    const results = JSON.parse(fs.readFileSync(path.join(packageDir, 'results', item.file), 'utf8'))
    const { counts } = classify(results, { browser: item.type === 'browser' })
    return { name: item.name, type: item.type, version: item.version, file: item.file, counts }
  })
  return {
    package: { name: packageJson.name, version: packageJson.version },
    kinds: KINDS,
    veil: classify(veilResults, { browser: false }),
    published: implementations
  }
}

function writeJson (file, value) {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2) + '\n')
  fs.renameSync(`${file}.tmp`, file)
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (args.summarize) {
    writeJson(args.summary, summarize(JSON.parse(fs.readFileSync(args.summarize, 'utf8'))))
    return
  }
  const base = new URL(args.base)
  const agent = loopbackAgent(base.hostname)
  const viaEdge = (url, init) => fetch(url, { ...init, agent, timeout: REQUEST_TIMEOUT_MS })
  await runTests(selectTests(args.id), viaEdge, false, args.base.replace(/\/+$/, ''))
  const results = getResults()
  if (args.id) {
    const kind = SYMBOL_KIND[determineTestResult(suites, args.id, results, false)[2]]
    const detail = Array.isArray(results[args.id]) ? results[args.id][1] : ''
    console.log(`==== ${args.id}: ${kind}${detail ? ' - ' + detail : ''}`)
    return
  }
  writeJson(args.results, results)
  writeJson(args.summary, summarize(results))
  agent.destroy()
}

main().catch(err => {
  console.error(`client: ${err.stack || err}`)
  process.exit(1)
})
