// The suite's origin server, bound to loopback only.
//
// The package's own server/server.mjs listens on every interface at a fixed port; this file
// mounts the same request handlers (imported, not copied) on 127.0.0.1 at a port the kernel
// picks, and writes that port to the file named by argv[2] (write-then-rename) so run.py can
// find it. Static files are not served: only the command-line client's paths exist.
//
//   node origin.mjs PORT_FILE
import fs from 'fs'
import http from 'http'

import handleConfig from 'http-cache-tests/server/handle-config.mjs'
import handleState from 'http-cache-tests/server/handle-state.mjs'
import handleTest from 'http-cache-tests/server/handle-test.mjs'

const handlers = { config: handleConfig, state: handleState, test: handleTest }

function dispatch (request, response) {
  const url = new URL(request.url, 'http://origin.invalid/')
  const segments = url.pathname.split('/').slice(1)
  const handler = handlers[segments.shift()]
  if (handler === undefined) {
    response.writeHead(404, { 'Content-Type': 'text/plain' })
    response.end('not a cache-tests path\n')
    return
  }
  handler(segments, request, response)
}

const portFile = process.argv[2]
if (!portFile) {
  console.error('usage: node origin.mjs PORT_FILE')
  process.exit(2)
}

const server = http.createServer(dispatch)
server.on('error', err => {
  console.error(`origin: ${err.message}`)
  process.exit(1)
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address()
  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`)
  fs.renameSync(`${portFile}.tmp`, portFile)
  console.log(`origin listening on http://127.0.0.1:${port}/`)
})

// run.py ends us with SIGTERM; exit at once (open keep-alive sockets would hold close()).
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
