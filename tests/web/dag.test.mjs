// The DAG's pure parts (engine/server/web/dag.js): columns by depth and the status a box shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerOf, phaseStatus } from '../../engine/server/web/dag.js';

test('a phase sits one column right of the deepest phase it needs', () => {
  const graph = [
    { id: 'a', needs: [] }, { id: 'b', needs: ['a'] }, { id: 'c', needs: ['a'] }, { id: 'd', needs: ['b', 'c'] },
    { id: 'e', needs: ['a', 'd'] }, { id: 'lone', needs: [] },
  ];
  assert.deepEqual(Object.fromEntries(layerOf(graph)), { a: 0, b: 1, c: 1, d: 2, e: 3, lone: 0 });
});

test('needs naming no phase of the graph are ignored, and a cycle cannot hang it', () => {
  assert.deepEqual(Object.fromEntries(layerOf([{ id: 'a', needs: ['ghost'] }])), { a: 0 });
  const cyclic = [{ id: 'x', needs: ['y'] }, { id: 'y', needs: ['x'] }];
  assert.equal(layerOf(cyclic).size, 2);
});

test("a box shows its phase's latest iteration, the fan-out's own row, else pending", () => {
  const instances = [
    { phase: 'loop', iteration: 1, status: 'completed' }, { phase: 'loop', iteration: 2, status: 'running' },
    { phase: 'fan', status: 'running' }, { phase: 'fan', item: 0, status: 'failed' },
    { phase: 'plain', status: 'completed' },
  ];
  assert.equal(phaseStatus(instances, 'loop'), 'running');
  assert.equal(phaseStatus(instances, 'fan'), 'running');
  assert.equal(phaseStatus(instances, 'plain'), 'completed');
  assert.equal(phaseStatus(instances, 'never'), 'pending');
});
