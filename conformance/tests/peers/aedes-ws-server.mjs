// aedes (npm) behind a WebSocket server (npm `ws`, its createWebSocketStream
// turns a WebSocket into the byte stream aedes reads), on 127.0.0.1, a port
// the system picks, any path; the subprotocol "mqtt" is selected when the
// client offers it (MQTT-6.0.0-4). Prints "listening on 127.0.0.1:PORT" once
// it accepts connections, and stops on SIGTERM.
// Usage: node aedes-ws-server.mjs NPM-PREFIX (where aedes and ws are installed).
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'

const prefix = process.argv[2]
const { Aedes } = await import(pathToFileURL(`${prefix}/node_modules/aedes/aedes.js`).href)
const { WebSocketServer, createWebSocketStream } = await import(pathToFileURL(`${prefix}/node_modules/ws/wrapper.mjs`).href)
const broker = await Aedes.createBroker()
const http = createServer()
const wss = new WebSocketServer({
  server: http,
  handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false)
})
wss.on('connection', (ws, req) => {
  const stream = createWebSocketStream(ws)
  stream.on('error', () => stream.destroy()) // a broken frame or a reset ends this client only
  broker.handle(stream, req)
})
http.listen(0, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${http.address().port}`)
})
process.on('SIGTERM', () => {
  wss.close()
  http.close()
  broker.close(() => process.exit(0))
})
