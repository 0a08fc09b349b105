import { runInNetns } from '../support/netns';
import { PHASES } from './scenarios/service-ecs-role';
it('durations', async () => {
  let t = performance.now();
  const par = await Promise.all(PHASES.map((p) => runInNetns('test/netns/scenarios/service-ecs-role.ts', [p], { timeoutMs: 45000 })));
  const parWall = performance.now() - t;
  t = performance.now();
  const seq = [];
  for (const p of PHASES) seq.push(await runInNetns('test/netns/scenarios/service-ecs-role.ts', [p], { timeoutMs: 45000 }));
  const seqWall = performance.now() - t;
  console.log(JSON.stringify({ parWall, par: par.map((r) => [r.code, r.durationMs]), seqWall, seq: seq.map((r) => [r.code, r.durationMs]) }));
}, 120000);
