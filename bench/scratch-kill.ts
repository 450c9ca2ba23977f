import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { allReach, bootEngine, commitWhen, dropBed, insertTasks, makeBed, parkedEffects, quiesce } from './engine-bed.js';
const n = 1000;
const bed = makeBed('kp');
const ids = insertTasks(bed.db, n, 'planning');
const h = bootEngine(bed, parkedEffects());
await quiesce(h);
const session = new Session(); session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
for (let r = 0; r < 6; r++) {
  const held = commitWhen(h, allReach(ids, 'held'));
  if (r === 1) await session.post('Profiler.start');
  const c0 = process.cpuUsage(); const t = performance.now();
  h.send('engineState', { type: 'engine.kill', reason: 'b', by: 'b' });
  const sync = performance.now() - t;
  const { at } = await held;
  const cpu = process.cpuUsage(c0);
  console.log('kill', Math.round(at - t), 'ms wall; sync', Math.round(sync), 'cpu', Math.round((cpu.user + cpu.system) / 1000));
  if (r === 5) { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/shb/kill.cpuprofile', JSON.stringify(profile)); }
  if (r >= 1 && r < 5) await session.post('Profiler.stop').then(() => null);
  await quiesce(h, 50);
  const back = commitWhen(h, allReach(ids, 'planning'));
  h.send('engineState', { type: 'engine.unkill', by: 'b' });
  await back; await quiesce(h, 50);
  if (r >= 1 && r < 5) await session.post('Profiler.start');
}
await h.stop(); dropBed(bed);
