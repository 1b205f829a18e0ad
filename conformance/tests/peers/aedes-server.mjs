// aedes (npm) on 127.0.0.1, a port the system picks; prints
// "listening on 127.0.0.1:PORT" once it accepts connections, and stops on
// SIGTERM. Usage: node aedes-server.mjs NPM-PREFIX (where aedes is installed).
import { createServer } from 'node:net'
import { pathToFileURL } from 'node:url'

const prefix = process.argv[2]
const { Aedes } = await import(pathToFileURL(`${prefix}/node_modules/aedes/aedes.js`).href)
const broker = await Aedes.createBroker()
const server = createServer(broker.handle)
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`)
})
process.on('SIGTERM', () => {
  server.close()
  broker.close(() => process.exit(0))
})
