// What a verified webhook delivery asks the server to do. Produced by the pure interpreters
// (github.ts, gitea.ts, gitlab.ts, git.ts); the routes act on it.
export type WebhookTriggerEvent = 'push' | 'tag' | 'pull_request';

export interface WebhookTrigger {
  event: WebhookTriggerEvent;
  /** Branch name without `refs/heads/` (for a pull request: its head branch). */
  branch?: string;
  /** Tag name without `refs/tags/`. */
  tag?: string;
  /** Full id of the commit to build. */
  commit: string;
  author?: string;
  /** Commit message (push) or pull request title. */
  message?: string;
  /** Files the push changed; undefined when unknown (then `when.path` conditions match). */
  changedPaths?: string[];
  /**
   * Where the commit can be fetched, as the sender claims: for a pull request the head
   * repository, which may be a fork. Untrusted: pass it through checkRepoSource before use.
   */
  cloneUrl?: string;
  prNumber?: number;
  /**
   * A pull request whose head is in another repository than its base (a fork): its steps never
   * get secrets. Every forge's interpreter sets it for pull requests; absent means not a fork.
   */
  fork?: boolean;
}

export type WebhookDecision =
  | { kind: 'ping' }
  | { kind: 'ignore'; reason: string }
  | { kind: 'trigger'; trigger: WebhookTrigger };
