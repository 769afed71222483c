// Checks the data against schemas/pipeline.schema.json with Ajv and turns Ajv's errors into
// one readable, positioned diagnostic per problem.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { PipelineFile } from '../config/pipeline-file.generated.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import { schemaMessage } from './messages.ts';
import type { Reporter } from './report.ts';
import { collapseAlternatives, toIssue } from './schema-issues.ts';
import { ROOT_SCHEMA } from './schema-tree.ts';

let compiled: ValidateFunction<PipelineFile> | undefined;

function validator(): ValidateFunction<PipelineFile> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, logger: false });
    // Read by json-schema-to-typescript only (a readable type instead of a tuple per length).
    ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
    ajv.addFormat('duration', { type: 'string', validate: (text) => parseDuration(text) !== undefined });
    ajv.addFormat('size', { type: 'string', validate: (text) => parseSize(text) !== undefined });
    compiled = ajv.compile<PipelineFile>(ROOT_SCHEMA);
  }
  return compiled;
}

/** Validates, reports every problem, and narrows the data when it fits the schema. */
export function checkSchema(data: unknown, reporter: Reporter): data is PipelineFile {
  const validate = validator();
  if (validate(data)) return true;
  const seen = new Set<string>();
  for (const issue of collapseAlternatives((validate.errors ?? []).map((e) => toIssue(e, data)))) {
    const finding = schemaMessage(issue);
    const key = `${finding.code}\0${finding.path.join('\0')}\0${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reporter.error(finding.code, finding.path, finding.message, finding.anchor);
  }
  return false;
}
