// The baseline: a bare node:http server answering the same whoami JSON as Tessera, with no
// routing, validation, token check or database. Tessera's whoami is measured against it.
// Usage: node bare-server.ts <port> <json-body>
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from(process.argv[3] ?? '{}');

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
