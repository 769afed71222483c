// Every code `gbcms validate` can print, with what it means. Codes are stable: scripts and
// editors match on them, so rename none; add new ones instead.

export const LINT_CODES = {
  // The bytes themselves.
  GBCMS_FILE_UNREADABLE: 'the file cannot be read (missing, a directory, no permission); exit code 2',
  GBCMS_FILE_TOO_LARGE: 'the file is over 1 MiB; nothing is parsed',
  GBCMS_FILE_BINARY: 'a NUL byte or control character: not a text file',
  GBCMS_FILE_ENCODING: 'the bytes are not valid UTF-8',
  GBCMS_FILE_CHECK_TIMEOUT:
    'the server gave up checking the file after its time limit (20 s by default); nothing in it was used',
  GBCMS_FILE_EMPTY: 'the file holds no YAML content (only blanks or comments)',
  GBCMS_FILE_NOT_MAPPING: 'the top level is not a mapping of keys to values',
  GBCMS_TOO_MANY_DIAGNOSTICS: 'past 100 problems in one file, the rest are counted, not listed',
  // YAML structure.
  GBCMS_YAML_SYNTAX: 'YAML the parser cannot read',
  GBCMS_YAML_TOO_DEEP: 'nesting deeper than 64 levels',
  GBCMS_YAML_TOO_COMPLEX:
    'more than 200000 YAML tokens (keys, values, brackets, commas) in one file: a bound on the work of reading it',
  GBCMS_YAML_MULTIPLE_DOCUMENTS: 'more than one YAML document (---) in one file',
  GBCMS_YAML_DUPLICATE_KEY: 'the same key twice in one mapping',
  GBCMS_YAML_MERGE_KEY: 'a `<<` merge key; gbcms does not merge mappings',
  GBCMS_YAML_FORBIDDEN_KEY: 'a key named __proto__, constructor or prototype',
  GBCMS_YAML_COMPLEX_KEY: 'a key that is a list or mapping instead of a plain string',
  GBCMS_YAML_ALIAS_BOMB: 'aliases that expand to a huge document (billion laughs)',
  GBCMS_YAML_UNKNOWN_ALIAS: 'an alias (*name) with no anchor (&name) above it',
  GBCMS_YAML_RECURSIVE_ALIAS: 'an alias that refers to a node containing it',
  GBCMS_YAML_UNKNOWN_TAG: 'warning: a YAML tag gbcms does not know; the value is read as untagged',
  GBCMS_YAML_WARNING: 'warning: any other YAML parser warning',
  // The schema (schemas/pipeline.schema.json).
  GBCMS_SCHEMA_UNKNOWN_KEY: 'a key the schema does not define at that place',
  GBCMS_SCHEMA_REQUIRED: 'a required key is missing',
  GBCMS_SCHEMA_TYPE: 'a value of the wrong type (a string where a list is expected, ...)',
  GBCMS_SCHEMA_ENUM: 'a value outside the allowed set',
  GBCMS_SCHEMA_DURATION: 'not a duration like 90s, 10m or 1h30m',
  GBCMS_SCHEMA_SIZE: 'not a size like 512m, 1g or 1.5GiB',
  GBCMS_SCHEMA_NAME: 'not a valid step, environment, variable or secret name',
  GBCMS_SCHEMA_PATTERN: 'not a valid image reference or user',
  GBCMS_SCHEMA_EMPTY: 'an empty string, list or mapping where content is needed',
  GBCMS_SCHEMA_RANGE: 'a number or length outside its limits',
  GBCMS_SCHEMA_DUPLICATE: 'the same item twice in a list that must be unique',
  GBCMS_SCHEMA_UNSUPPORTED: 'a feature gbcms v1 rejects on purpose: planned (none today)',
  GBCMS_SCHEMA_INVALID: 'any other schema violation',
  // Meaning (checked after the shape).
  GBCMS_STEP_ENVIRONMENT_AND_IMAGE: 'a step names both an environment and an image',
  GBCMS_STEP_NO_ENVIRONMENT: 'a step names neither an environment nor an image',
  GBCMS_ENV_IMAGE_AND_BUILD: 'an environment has both image and build',
  GBCMS_ENV_NO_IMAGE: 'an environment has neither image nor build',
  GBCMS_UNKNOWN_ENVIRONMENT: 'environment: names an environment the file does not define',
  GBCMS_UNKNOWN_STEP: 'depends_on names a step the file does not define',
  GBCMS_SELF_DEPENDENCY: 'a step lists itself in depends_on',
  GBCMS_DAG_CYCLE: 'steps wait for each other in a circle',
  GBCMS_TOO_MANY_STEPS:
    'more than 1000 steps in one file: a product limit on what one run schedules and shows; cycles are still checked',
  GBCMS_SECRET_NAME_TOO_SHORT: 'a secret name of 3 characters or fewer',
  GBCMS_ARTIFACT_UNSAFE_PATH: 'an artifact path or name that is absolute or contains ..',
  GBCMS_ARTIFACT_DUPLICATE: 'two artifacts of a step land in the same destination',
  GBCMS_CACHE_UNSAFE_PATH: 'a cache path or key file that contains .., or a key file that is absolute',
  GBCMS_CACHE_DUPLICATE: 'two caches of a step keep the same folder',
  GBCMS_SERVICE_IMAGE: 'a service names both an environment and an image, or neither',
  GBCMS_SERVICE_UNKNOWN_ENVIRONMENT: 'a service uses an environment the file does not define',
  GBCMS_REPORT_UNSAFE_PATH: 'a report path that is absolute or contains ..',
  GBCMS_MATRIX_TOO_LARGE: 'a matrix expanding to more than 256 combinations',
  GBCMS_MATRIX_DUPLICATE_VALUE:
    "two values of a matrix axis that read the same as text (1 and '1', true and 'true')",
  GBCMS_MATRIX_NAME_CLASH: 'two matrix combinations that would give their steps the same name',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the pipeline syntax, not a JS template
  GBCMS_MATRIX_REF_NO_MATRIX: '${{ matrix.AXIS }} in a step that has no matrix',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the pipeline syntax, not a JS template
  GBCMS_MATRIX_REF_UNKNOWN_AXIS: "warning: ${{ matrix.AXIS }} names an axis the step's matrix does not have",
  GBCMS_MATRIX_IMAGE:
    "a step's image that is not a valid image reference once a matrix combination is filled in",
  GBCMS_CONCURRENCY_VARIABLE:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the pipeline syntax, not a JS template
    "a concurrency group's ${{ NAME }} that gbcms cannot fill: an unknown variable, a matrix axis the step does not have (or any at the top level), or a ${{ left unclosed",
  GBCMS_SCHEDULE_CRON: "a schedule's cron expression that is not five fields or a nickname, or never fires",
  GBCMS_SCHEDULE_TIMEZONE: "a schedule's timezone that is not an IANA zone name",
  GBCMS_SCHEDULE_DUPLICATE_NAME: 'two schedules of the file with the same name',
  GBCMS_BAD_HABIT_ROOT_USER: 'warning: an environment runs as root',
  // Includes and templates.
  GBCMS_INCLUDE_PATH: 'an include path that is absolute or leads out of the repository',
  GBCMS_INCLUDE_MISSING: 'an included file that does not exist',
  GBCMS_INCLUDE_UNREADABLE:
    'an included file that is not a regular file in the repository, or links out of it',
  GBCMS_INCLUDE_NO_MATCH: 'warning: an include glob that matches no file',
  GBCMS_INCLUDE_CYCLE: 'files that include each other in a circle',
  GBCMS_INCLUDE_TOO_DEEP: 'includes nested more than 4 files deep',
  GBCMS_INCLUDE_TOO_LARGE: 'a pipeline and its included files together over 1 MiB, or more than 50 files',
  GBCMS_INCLUDE_KEY: 'a key other than include, templates, environments and steps in an included file',
  GBCMS_INCLUDE_REMOTE: 'a remote include whose url is not https:// or whose sha256 is not 64 hex digits',
  GBCMS_INCLUDE_FETCH:
    'a remote include that could not be fetched (refused address, redirect, too large, timeout, HTTP error)',
  GBCMS_INCLUDE_HASH: 'a remote include whose bytes do not have the pinned sha256',
  GBCMS_INCLUDE_OFFLINE: 'a remote include not in the cache, with --offline',
  GBCMS_INCLUDE_NOT_FOLLOWED: 'include: in text linted without a file system (lintPipelineSource)',
  GBCMS_DUPLICATE_DEFINITION: 'a step, environment or template defined in two files',
  GBCMS_UNKNOWN_TEMPLATE: 'extends names a template the pipeline does not define',
  GBCMS_TEMPLATE_EXTENDS: 'a template with extends: of its own; templates do not chain',
} as const;

export type LintCode = keyof typeof LINT_CODES;
