// Which Redis the work queue is in, as the operator gives it (--queue, GBCMS_QUEUE_URL).

/** `--queue` if given, else $GBCMS_QUEUE_URL, else undefined (the in-process queue). */
export function resolveQueueUrl(option: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return option ?? (env.GBCMS_QUEUE_URL || undefined);
}

/** redis:// or rediss:// (TLS), a host, and at most a database number. */
export function isRedisUrl(text: string): boolean {
  return /^rediss?:\/\/[^\s/?#]+(\/\d+)?$/.test(text);
}

/** The URL without its password, for messages and logs. */
export function describeRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
