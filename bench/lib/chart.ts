/** Renders a benchmark's figures as an SVG chart next to its raw JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import { ARTIFACTS_DIR } from './report';

/** A Vega-Lite spec with its data inline. */
export type ChartSpec = TopLevelSpec;

/** Shared look: white background (the SVG is read outside a page too), readable fonts. */
const CONFIG = {
  background: 'white',
  padding: 12,
  font: 'sans-serif',
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
} as const;

/**
 * Compiles `spec` (Vega-Lite, data inline) and writes `<name>.svg` under `.artifacts/bench/`;
 * returns its path. Rendered headless without a canvas, text widths are estimated at 0.8 em a
 * character, well above the real ones: long title lines and outside legends widen the chart with
 * blank space, so keep lines short and legends inside the plot.
 */
export async function writeChart(name: string, spec: ChartSpec): Promise<string> {
  // Both packages are ES modules only; this package is CommonJS.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile({ ...spec, config: { ...CONFIG, ...spec.config } }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.svg`);
  writeFileSync(file, svg);
  return file;
}

/**
 * A log scale over whole powers of ten, from the one at or below `min` to the one at or above
 * `max`, ticked at each: to spread into a position channel.
 */
export function logDecades(min: number, max: number) {
  const first = Math.floor(Math.log10(min));
  const values = Array.from({ length: Math.ceil(Math.log10(max)) - first + 1 }, (_, k) => 10 ** (first + k));
  return {
    scale: { type: 'log' as const, domain: [10 ** first, 10 ** (first + values.length - 1)] },
    axis: { values, format: ',~g' },
  };
}
