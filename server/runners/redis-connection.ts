// The one Redis connection a server's BullMQ work queue shares among its queues and workers.
// Commands wait while Redis is away (maxRetriesPerRequest null, as BullMQ's workers require)
// and go out when it is back, so a Redis restart delays dispatch instead of failing it; but a
// Redis that does not answer when the server starts is the operator's to fix, said at once.
import { Redis } from 'ioredis';
import { describeRedisUrl } from './queue-url.ts';

export class RedisUnreachableError extends Error {}

/** A connection to `url` that answered PING; rejects with RedisUnreachableError when it does not. */
export async function openRedis(url: string, onError: (error: Error) => void): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  // connect() fails with "Connection is closed": why it closed came as an error event.
  let refusal: Error | undefined;
  const atStart = (error: Error) => {
    refusal ??= error;
  };
  redis.on('error', atStart);
  try {
    await redis.connect();
    await redis.ping();
    redis.off('error', atStart);
    redis.on('error', onError);
  } catch (error) {
    redis.disconnect();
    const { message, code } = (refusal ?? error) as { message?: string; code?: string };
    throw new RedisUnreachableError(`${describeRedisUrl(url)}: ${message || code || String(error)}`, {
      cause: error,
    });
  }
  return redis;
}
