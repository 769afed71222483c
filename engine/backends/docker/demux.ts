// Docker multiplexes a non-TTY container's stdout and stderr on one connection: frames of an
// 8-byte header (stream id, 3 zero bytes, big-endian payload length) then the payload.
// Network chunks split frames anywhere, so the parser keeps what it has not used yet.
import type { OutputChunk } from '../types.ts';

const HEADER_BYTES = 8;

export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  /** Whole frames completed by `chunk`, in order. */
  push(chunk: Buffer): OutputChunk[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: OutputChunk[] = [];
    let offset = 0;
    while (this.pending.length - offset >= HEADER_BYTES) {
      const kind = this.pending[offset];
      const size = this.pending.readUInt32BE(offset + 4);
      const end = offset + HEADER_BYTES + size;
      if (this.pending.length < end) break;
      // Copy, so a consumer keeping the chunk does not pin the whole network buffer.
      const data = Buffer.from(this.pending.subarray(offset + HEADER_BYTES, end));
      // 0 is stdin echoed back, which gbcms never attaches; anything else unknown is stdout.
      if (kind !== 0 && size > 0) out.push({ stream: kind === 2 ? 'stderr' : 'stdout', data });
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
    return out;
  }

  /** Bytes of an unfinished frame, left when the connection ended mid-frame. */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Demultiplexed output of an attach stream, until the stream ends. */
export async function* demux(stream: AsyncIterable<Buffer | string>): AsyncGenerator<OutputChunk> {
  const parser = new FrameParser();
  for await (const chunk of stream) {
    yield* parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
}
