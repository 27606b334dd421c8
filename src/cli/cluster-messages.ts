/** The message a worker sends its primary once it listens. */
export const WORKER_LISTENING = 'tessera:listening';
