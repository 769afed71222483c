// The import graph gbcms keeps: data flows one way (file -> lint -> compile -> plan ->
// scheduler -> backend -> observers -> store/CLI/server), so imports point the same way.
// `npm run lint` runs this over every folder with code; a rule broken is a failed lint.

/** Product code: what ships. Tests and benches may reach into it, never the reverse. */
const PRODUCT = '^(engine|server|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A cycle makes two modules one: neither can be read, tested or moved alone, and ESM ' +
        'may run one of them half-initialised. Move what both need into a third module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-not-to-server-or-bin',
      comment:
        'engine/ is the library (package.json exports) and runs without a server: it must not ' +
        'reach the server, nor the CLI dispatcher that sits above both.',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: '^(server|bin)/' },
    },
    {
      name: 'backends-see-only-the-plan',
      comment:
        'A backend runs what the plan says and reports back; it talks to the rest of gbcms only ' +
        'through engine/plan.ts (and its own types), so the scheduler and the run loop can change ' +
        'without touching Docker or the local sandbox.',
      severity: 'error',
      from: { path: '^engine/backends/' },
      to: { path: '^(engine|server|bin)/', pathNot: ['^engine/backends/', '^engine/plan\\.ts$'] },
    },
    {
      name: 'sql-only-in-the-store',
      comment:
        'SQL stays in server/store/: the rest of the server asks the store, so the schema and ' +
        'the database can change in one place. Tests and benches may open the database ' +
        'themselves, to check migrations or to measure a raw baseline.',
      severity: 'error',
      from: { path: PRODUCT, pathNot: '^server/store/' },
      to: { path: '(^|/)node_modules/(@types/)?(kysely|better-sqlite3)/' },
    },
    {
      name: 'product-not-to-tests',
      comment: 'What ships must not depend on test helpers, fixtures or benchmarks.',
      severity: 'error',
      from: { path: PRODUCT },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type cycle still ties two modules together for a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      // `.ts` import specifiers (allowImportingTsExtensions) and ESM-only packages that
      // publish nothing but an exports map (p-queue, badge-maker, @octokit/webhooks).
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
