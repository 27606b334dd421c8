import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

/** CORS on every response (spec: "Web Browser Clients"). */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'X-Requested-With, Content-Type, Authorization, Date',
};

/**
 * A node:http server for one listener. Every listener's server is made here, so all behave
 * alike: a keep-alive timeout of 72 s (longer than the usual load balancer's idle timeout) and node's default bound on receiving a whole
 * request (300 s), after which `clientError` answers 408.
 */
export function createListenerServer(handler: RequestListener): Server {
  const server = createServer(handler);
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = 300_000;
  return server;
}

/**
 * Stop a server: no new connections, idle keep-alive connections closed now, the others when
 * their reply is done. Resolves once every connection is closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/**
 * Node's `clientError`: a request that never reached routing (malformed request line or
 * headers, headers over node's size limit, a request not fully received within node's
 * `requestTimeout`). Answered with a Matrix error instead of node's own body.
 */
export function clientErrorHandler(log: Logger): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, errcode, error] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'M_UNKNOWN', 'Request not received in time']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'M_TOO_LARGE', 'Request headers too large']
          : [400, 'Bad Request', 'M_UNKNOWN', 'Malformed HTTP request'];
    log.debug({ code: err.code, status }, 'client error');
    // As node's own handler does: a reply already under way on this connection cannot be replaced.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && inFlight?.headersSent !== true) {
      const body = JSON.stringify({ errcode, error });
      const cors = Object.entries(CORS_HEADERS)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\n${cors}content-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
