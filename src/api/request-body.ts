import type { IncomingMessage } from 'node:http';
import { MatrixError } from '../errors.js';

/** The client closed its connection before its body arrived: there is nobody to answer. */
export class ClientGone extends Error {
  constructor() {
    super('client closed the connection before sending its body');
    this.name = 'ClientGone';
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A request's whole body, at most `limit` bytes (Synapse's `max_request_body_size`): 413
 * M_TOO_LARGE as soon as the declared Content-Length or the bytes received pass it. The rest of
 * a refused body is read and dropped by node after the reply, so the connection stays usable
 * for the client's next request; node's `requestTimeout` bounds how long that may take.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new MatrixError('M_TOO_LARGE', 'Request body too large'));
  }
  if (declared === '0' || (declared === undefined && req.headers['transfer-encoding'] === undefined)) {
    return Promise.resolve(EMPTY);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new MatrixError('M_TOO_LARGE', 'Request body too large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onGone = () => {
      cleanup();
      reject(new ClientGone());
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('aborted', onGone);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('aborted', onGone);
  });
}
