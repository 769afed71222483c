// The URLs gbcms gives out for its resources, under the configured public URL (relative
// paths when none is configured).

export function links(base: string) {
  const execution = (id: string) => `${base}/api/executions/${encodeURIComponent(id)}`;
  return {
    execution,
    executionLogs: (id: string) => `${execution(id)}/logs`,
    stepLogs: (id: string, step: string) => `${execution(id)}/logs?step=${encodeURIComponent(step)}`,
    executionEvents: (id: string) => `${execution(id)}/events`,
    artifact: (id: string, path: string) =>
      `${execution(id)}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`,
    executionPage: (id: string) => `${base}/executions/${encodeURIComponent(id)}`,
    /** A line of a step's log on the run page (the page scrolls to it and marks it). */
    logLine: (id: string, step: string, line: number) =>
      `${base}/executions/${encodeURIComponent(id)}#${encodeURIComponent(step)}-${line}`,
    projectPage: (id: string) => `${base}/projects/${encodeURIComponent(id)}`,
    badge: (id: string) => `${base}/badges/${encodeURIComponent(id)}.svg`,
    githubHook: (id: string) => `${base}/hooks/github/${encodeURIComponent(id)}`,
    giteaHook: (id: string) => `${base}/hooks/gitea/${encodeURIComponent(id)}`,
    gitlabHook: (id: string) => `${base}/hooks/gitlab/${encodeURIComponent(id)}`,
    gitHook: (id: string) => `${base}/hooks/git/${encodeURIComponent(id)}`,
  };
}

export type Links = ReturnType<typeof links>;
