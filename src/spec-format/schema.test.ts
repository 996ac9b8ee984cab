import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { edit, toFiles, validTree } from '../../test/spec-format/tree.js';
import { KINDS } from './format.js';
import { FRONTMATTER_SCHEMAS, specJsonSchemas } from './schema.js';
import { validateSpecDir, validateSpecFiles } from './validate.js';

const docsSchema = join(import.meta.dirname, '..', '..', 'docs', 'schema');

describe('zod schemas and JSON Schema files', () => {
  it('docs/schema holds exactly what the schemas generate (run scripts/gen-spec-schema.js)', () => {
    const generated = specJsonSchemas();
    expect(readdirSync(docsSchema).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, schema] of Object.entries(generated)) {
      expect(JSON.parse(readFileSync(join(docsSchema, name), 'utf8')), name).toEqual(schema);
    }
  });

  it('name the same fields, and the same required ones, as the validator table', () => {
    for (const [kind, schema] of Object.entries(specJsonSchemas())) {
      const spec = KINDS[kind.replace('.schema.json', '') as keyof typeof KINDS];
      expect(Object.keys(schema.properties as object).sort()).toEqual(Object.keys(spec.fields).sort());
      const required = Object.entries(spec.fields)
        .filter(([, f]) => f.required)
        .map(([k]) => k);
      expect([...(schema.required as string[])].sort()).toEqual(required.sort());
    }
  });

  it('accept every document the validator accepts (base tree and example tree)', async () => {
    const example = await validateSpecDir(join(import.meta.dirname, '..', '..', 'examples', 'spec-driven'));
    for (const doc of [...validateSpecFiles(toFiles(validTree())).documents, ...example.documents]) {
      const result = FRONTMATTER_SCHEMAS[doc.kind].safeParse(doc.frontmatter);
      expect(result.success, `${doc.path}: ${result.error?.message}`).toBe(true);
    }
  });

  it('reject what the validator rejects as an error in the frontmatter', () => {
    const path = '.omoi_os/tasks/TSK-001.md';
    for (const [from, to] of [
      ['status: pending', 'status: doing'],
      ['created: 2026-11-01', 'created: 2026-02-30'],
      ['id: TSK-001', 'id: TSK-1'],
      ['estimate: S\n', ''],
      ['title: Task TSK-001', 'title: [a]'],
      ['depends_on: []', 'depends_on: TSK-000'],
    ] as const) {
      const tree = edit(validTree(), path, from, to);
      const report = validateSpecFiles(toFiles(tree));
      expect(report.issues.some((i) => i.path === path && i.level === 'error')).toBe(true);
      const doc = report.documents.find((d) => d.path === path)!;
      expect(FRONTMATTER_SCHEMAS.task.safeParse(doc.frontmatter).success, `${from} -> ${to}`).toBe(false);
    }
  });
});
