/**
 * A minimal RFC 6455 WebSocket echo endpoint on Node's own 'upgrade' event: enough for the platform to prove
 * that nginx passes `101 Switching Protocols` end to end and that a drain closes sockets with 1001.
 * No extensions (permessage-deflate offers are declined by not answering them) and no subprotocols.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_MESSAGE_BYTES = 1024 * 1024;

const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  invalidPayload: 1007,
  tooBig: 1009,
} as const;

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

function closePayload(code: number, reason: string): Buffer {
  const reasonBytes = Buffer.from(reason, 'utf8').subarray(0, 123);
  const out = Buffer.alloc(2 + reasonBytes.length);
  out.writeUInt16BE(code, 0);
  reasonBytes.copy(out, 2);
  return out;
}

class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One open connection: parses masked client frames and echoes complete messages. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private fragmentBytes = 0;
  private closeSent = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  readonly openedAt = performance.now();
  closeCode: number | undefined;

  constructor(
    readonly socket: Duplex,
    private readonly onClosed: (conn: Connection) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    // HTTP server sockets allow half-open connections: answer the peer's FIN with ours.
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      clearTimeout(this.killTimer);
      this.onClosed(this);
    });
  }

  receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      for (;;) {
        const frame = this.nextFrame();
        if (frame === undefined) return;
        this.handle(frame.opcode, frame.fin, frame.payload);
      }
    } catch (err) {
      if (err instanceof ProtocolError) this.close(err.code, err.message);
      else throw err;
    }
  }

  private nextFrame(): { opcode: number; fin: boolean; payload: Buffer } | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    const b0 = b[0] as number;
    const b1 = b[1] as number;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) throw new ProtocolError(CLOSE.protocolError, 'reserved bits set');
    if ((b1 & 0x80) === 0) throw new ProtocolError(CLOSE.protocolError, 'client frames must be masked');
    let offset = 2;
    let length = b1 & 0x7f;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_MESSAGE_BYTES)) throw new ProtocolError(CLOSE.tooBig, 'message too big');
      length = Number(big);
      offset = 10;
    }
    if (length > MAX_MESSAGE_BYTES) throw new ProtocolError(CLOSE.tooBig, 'message too big');
    if (b.length < offset + 4 + length) return undefined;
    const mask = b.subarray(offset, offset + 4);
    const payload = Buffer.from(b.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
    this.buffer = b.subarray(offset + 4 + length);
    return { opcode, fin, payload };
  }

  private handle(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode >= 0x8) {
      if (!fin || payload.length > 125) throw new ProtocolError(CLOSE.protocolError, 'bad control frame');
      if (opcode === OP.close) this.onCloseFrame(payload);
      else if (opcode === OP.ping) this.send(OP.pong, payload);
      else if (opcode !== OP.pong) throw new ProtocolError(CLOSE.protocolError, `unknown opcode ${opcode}`);
      return;
    }
    if (opcode === OP.continuation) {
      if (this.fragmentOpcode === 0) throw new ProtocolError(CLOSE.protocolError, 'unexpected continuation');
    } else if (opcode === OP.text || opcode === OP.binary) {
      if (this.fragmentOpcode !== 0) throw new ProtocolError(CLOSE.protocolError, 'expected continuation');
      this.fragmentOpcode = opcode;
    } else {
      throw new ProtocolError(CLOSE.protocolError, `unknown opcode ${opcode}`);
    }
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > MAX_MESSAGE_BYTES) throw new ProtocolError(CLOSE.tooBig, 'message too big');
    this.fragments.push(payload);
    if (!fin) return;
    const message = Buffer.concat(this.fragments);
    const messageOpcode = this.fragmentOpcode;
    this.fragments = [];
    this.fragmentOpcode = 0;
    this.fragmentBytes = 0;
    if (messageOpcode === OP.text) {
      try {
        this.utf8.decode(message);
      } catch {
        throw new ProtocolError(CLOSE.invalidPayload, 'text message is not valid UTF-8');
      }
    }
    this.send(messageOpcode, message);
  }

  private onCloseFrame(payload: Buffer): void {
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : CLOSE.normal;
    this.closeCode ??= code;
    if (!this.closeSent) {
      this.closeSent = true;
      this.socket.write(
        encodeFrame(OP.close, payload.length >= 2 ? payload.subarray(0, 2) : Buffer.alloc(0)),
      );
    }
    // Both sides have sent their close frame: the server closes the TCP connection first (RFC 6455 7.1.1).
    this.socket.end();
    this.destroyLater(1000);
  }

  private destroyLater(ms: number): void {
    this.killTimer ??= setTimeout(() => this.socket.destroy(), ms);
    this.killTimer.unref();
  }

  send(opcode: number, payload: Buffer): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.socket.write(encodeFrame(opcode, payload));
  }

  /** Starts the closing handshake; the socket is destroyed if the peer does not answer within graceMs. */
  close(code: number, reason: string, graceMs = 1000): void {
    if (this.socket.destroyed) return;
    if (!this.closeSent) {
      this.closeSent = true;
      this.closeCode ??= code;
      this.socket.write(encodeFrame(OP.close, closePayload(code, reason)));
    }
    this.destroyLater(graceMs);
  }
}

export interface WebSocketHub {
  /** Handles an upgrade request for the echo endpoint (already routed to its path); returns the HTTP status. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, extraHeaders: Record<string, string>): number;
  count(): number;
  /** Closes every open socket with `code` and resolves once all are gone (at most graceMs later). */
  closeAll(code: number, reason: string, graceMs: number): Promise<void>;
}

export interface WebSocketEvents {
  opened(): void;
  closed(): void;
}

/** Writes a plain HTTP error on a socket that asked for an upgrade we do not grant. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const body = `${JSON.stringify({ error: reason })}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export function createWebSocketHub(log: Logger, events: WebSocketEvents): WebSocketHub {
  const open = new Set<Connection>();
  const waiters: Array<() => void> = [];

  const onClosed = (conn: Connection) => {
    if (!open.delete(conn)) return;
    events.closed();
    log.info(
      { ws: 'closed', code: conn.closeCode ?? 1006, ms: Math.round(performance.now() - conn.openedAt) },
      'websocket closed',
    );
    if (open.size === 0) for (const w of waiters.splice(0)) w();
  };

  return {
    accept(req, socket, head, extraHeaders) {
      const key = req.headers['sec-websocket-key'];
      const upgrade = req.headers.upgrade?.toLowerCase();
      const connection = req.headers.connection?.toLowerCase() ?? '';
      if (req.method !== 'GET' || upgrade !== 'websocket' || !connection.includes('upgrade')) {
        refuseUpgrade(socket, 400, 'Bad Request', extraHeaders);
        return 400;
      }
      if (req.headers['sec-websocket-version'] !== '13') {
        refuseUpgrade(socket, 426, 'Upgrade Required', { ...extraHeaders, 'Sec-WebSocket-Version': '13' });
        return 426;
      }
      if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
        refuseUpgrade(socket, 400, 'Bad Request', extraHeaders);
        return 400;
      }
      const lines = [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${acceptKey(key)}`,
        ...Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
      const conn = new Connection(socket, onClosed);
      open.add(conn);
      events.opened();
      if (head.length > 0) conn.receive(head);
      return 101;
    },
    count: () => open.size,
    closeAll(code, reason, graceMs) {
      if (open.size === 0) return Promise.resolve();
      const done = new Promise<void>((resolve) => waiters.push(resolve));
      for (const conn of open) conn.close(code, reason, graceMs);
      return done;
    },
  };
}
