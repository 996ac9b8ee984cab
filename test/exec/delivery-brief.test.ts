// The delivery brief (src/core/delivery.ts) on a real database (PGlite, and PostgreSQL when
// OMOI_TEST_DATABASE_URL is set): what a task merges (its transitive dependencies, in dependency
// order), what an integration task merges (every task of its ticket), the verify command and the
// requirement ids of the spec task; none for a spec run.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveryBrief } from '../../src/core/delivery.js';
import { createServices, type Services } from '../../src/core/services.js';
import { describeEachDatabase } from '../support/db.js';
import { DIAMOND, dagSpec, taskId } from './support/dag-spec.js';

describeEachDatabase('delivery brief', (getDb) => {
  let services: Services;
  beforeAll(async () => {
    services = await createServices(getDb());
  });
  afterAll(async () => {
    await services?.stop();
  });

  it('a task merges its transitive dependencies in order; an integration every task; spec runs none', async () => {
    const feature = `BRF${randomUUID()
      .replace(/[^0-9]/g, '')
      .slice(0, 4)}`;
    const project = await services.projects.create({
      name: `p-${randomUUID()}`,
      repo_url: '/tmp/none.git',
      settings: { verify_command: 'npm test' },
    });
    const { ticket, task: specRun } = await services.tickets.create({
      project_id: project.id,
      description: 'Build the diamond',
      workflow_mode: 'spec_driven',
    });
    await getDb().query(`UPDATE tasks SET status = 'completed', finished_at = now() WHERE id = $1`, [
      specRun.id,
    ]);
    await services.specs.sync(project.id, dagSpec({ feature, tasks: DIAMOND }), { ticketId: ticket.id });
    const { tasks } = await services.tickets.approve(ticket.id);
    const by = (l: string) => tasks.find((t) => t.spec_task_id === taskId(feature, l))!;
    const verify = 'npm test';

    expect(await deliveryBrief(getDb(), await services.tasks.get(specRun.id), verify)).toBeNull();

    const e = await deliveryBrief(getDb(), by('E'), verify);
    expect(e).toMatchObject({
      kind: 'task',
      verify_command: 'npm test',
      spec_task_id: taskId(feature, 'E'),
      requirements: [`REQ-${feature}-CORE-001`],
    });
    // A before B and C, both before D; F is not a dependency of E.
    expect(e!.merge.map((m) => m.spec_task_id)).toEqual(['A', 'B', 'C', 'D'].map((l) => taskId(feature, l)));
    expect(e!.merge[0]).toEqual({
      task_id: by('A').id,
      spec_task_id: taskId(feature, 'A'),
      branch: by('A').branch,
    });
    expect((await deliveryBrief(getDb(), by('A'), null))!.merge).toEqual([]);

    const integration = await services.tasks.create({
      ticket_id: ticket.id,
      title: 'Integrate',
      task_type: 'integration',
      depends_on: tasks.map((t) => t.id),
    });
    const brief = await deliveryBrief(getDb(), integration, verify);
    expect(brief?.kind).toBe('integration');
    const order = brief!.merge.map((m) => m.spec_task_id);
    expect([...order].sort()).toEqual(Object.keys(DIAMOND).map((l) => taskId(feature, l)));
    for (const [letter, deps] of Object.entries(DIAMOND))
      for (const dep of deps)
        expect(order.indexOf(taskId(feature, dep))).toBeLessThan(order.indexOf(taskId(feature, letter)));
    expect(brief!.requirements).toEqual([`REQ-${feature}-CORE-001`]);
  });
});
