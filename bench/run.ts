/**
 * `npm run bench [-- NAME...]`: runs the named benchmarks (default: all, in this order), each
 * printing its table and writing its raw figures under `.artifacts/bench/`.
 */
import { delayBench } from './delay';
import { historyBench } from './history';
import { overheadBench } from './overhead';
import { thousandBench } from './thousand';
import { describeMachine, machineLine, type Machine } from './lib/report';

const BENCHMARKS: Record<string, (machine: Machine) => Promise<void>> = {
  history: historyBench,
  delay: delayBench,
  thousand: thousandBench,
  overhead: overheadBench,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const machine = describeMachine();
  console.log(`# Benchmarks — ${machineLine(machine)}`);
  for (const [name, bench] of Object.entries(BENCHMARKS)) {
    if (names.length > 0 && !names.includes(name)) continue;
    const started = Date.now();
    await bench(machine);
    console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s of real time)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
