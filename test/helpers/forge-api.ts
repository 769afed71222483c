// Checks commit-status requests against each forge's published API description, so a test
// fails on a missing, misnamed or mistyped field, a wrong method or a wrong path.
// GitHub: the `POST /repos/{owner}/{repo}/statuses/{sha}` operation of @octokit/openapi
// (GitHub's own OpenAPI description), read once per test file. Gitea and GitLab publish no
// description in a package: their schemas are written from their docs into fixtures
// (test/fixtures/forge-api/, each naming its doc page).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

export interface ForgeRequest {
  method: string;
  /** Path and query, as the server received it. */
  url: string;
  body: unknown;
}

/** What is wrong with the request; empty when it is what the forge documents. */
export type RequestValidator = (request: ForgeRequest) => string[];

const require = createRequire(import.meta.url);
const GITHUB_PATH = '/repos/{owner}/{repo}/statuses/{sha}';

interface Operation {
  requestBody: { required?: boolean; content: Record<string, { schema: object }> };
}

let githubOperation: Operation | undefined;

/** The operation alone: the description is 13 MB, so it is parsed once and the rest let go. */
function loadGithubOperation(): Operation {
  if (githubOperation) return githubOperation;
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const description = JSON.parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, { post?: Operation }>;
  };
  const operation = description.paths[GITHUB_PATH]?.post;
  if (!operation) throw new Error(`${GITHUB_PATH} has no POST in @octokit/openapi`);
  githubOperation = structuredClone(operation);
  return githubOperation;
}

/**
 * GitHub's schema as published, plus one thing it leaves open: GitHub ignores unknown fields,
 * so a misnamed optional field (`targetUrl` for `target_url`) would be lost without a word.
 * The check refuses fields the operation does not name.
 */
export function githubStatusValidator(): RequestValidator {
  const operation = loadGithubOperation();
  const schema = operation.requestBody.content['application/json']?.schema as Record<string, unknown>;
  const validate = compile({ ...schema, additionalProperties: false });
  return pathAndBody(/^\/repos\/([^/]+)\/([^/]+)\/statuses\/(.+)$/, validate);
}

/** A schema from test/fixtures/forge-api/ (`gitea-status.json`, `gitlab-status.json`). */
export function fixtureValidator(name: string): RequestValidator {
  const fixture = JSON.parse(
    readFileSync(new URL(`../fixtures/forge-api/${name}`, import.meta.url), 'utf8'),
  ) as { path: string; body: object };
  return pathAndBody(new RegExp(fixture.path), compile(fixture.body));
}

function compile(schema: object): ValidateFunction {
  // `nullable` is OpenAPI's, which Ajv understands; `example(s)` is not JSON Schema.
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

function pathAndBody(path: RegExp, validate: ValidateFunction): RequestValidator {
  return (request) => {
    const problems: string[] = [];
    if (request.method !== 'POST') problems.push(`method ${request.method}, not POST`);
    const pathname = new URL(request.url, 'http://127.0.0.1').pathname;
    if (!path.test(pathname)) problems.push(`path ${pathname} does not match ${path}`);
    if (!validate(request.body)) {
      for (const error of validate.errors ?? []) {
        problems.push(`body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
      }
    }
    return problems;
  };
}
