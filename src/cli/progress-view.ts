/**
 * Where progress goes: on a terminal, one live line per wait rewritten in place; otherwise (piped,
 * CI logs) a plain line each time a wait's status or poll count changes.
 */
export interface ProgressView {
  /** Shows `line` for the wait of `exportId`; `key` tells a plain stream whether anything changed. */
  update(exportId: string, line: string, key: string): void;
  /** A message above the progress lines. */
  log(line: string): void;
  /** Leaves the last lines on screen; later writes go below them. */
  close(): void;
}

export function createProgressView(stream: NodeJS.WriteStream, exportIds: readonly string[]): ProgressView {
  return stream.isTTY ? new LiveView(stream, exportIds) : new PlainView(stream);
}

class PlainView implements ProgressView {
  private readonly printed = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(exportId: string, line: string, key: string): void {
    if (this.printed.get(exportId) === key) return;
    this.printed.set(exportId, key);
    this.stream.write(`${line}\n`);
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  close(): void {}
}

// ANSI: move the cursor up n lines; erase from the cursor to the end of the screen.
const up = (n: number): string => (n > 0 ? `\x1b[${n}A` : '');
const ERASE_DOWN = '\x1b[0J';

/** Cuts `line` to `width`, first shortening the export id in it to `exp_0194c2…8e7d`. */
function fit(exportId: string, line: string, width: number): string {
  if (line.length <= width) return line;
  const shorter = line.replace(exportId, `${exportId.slice(0, 10)}…${exportId.slice(-4)}`);
  return shorter.length <= width ? shorter : `${shorter.slice(0, width - 1)}…`;
}

/** A block of lines, one per wait, redrawn in place. Lines are cut to the terminal width so none wraps. */
class LiveView implements ProgressView {
  private readonly lines: Map<string, string>;
  private drawn = 0;
  private closed = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    exportIds: readonly string[],
  ) {
    this.lines = new Map(exportIds.map((id) => [id, `${id} starting`]));
  }

  update(exportId: string, line: string): void {
    if (this.closed || this.lines.get(exportId) === line) return;
    this.lines.set(exportId, line);
    this.redraw('');
  }

  log(line: string): void {
    if (this.closed) this.stream.write(`${line}\n`);
    else this.redraw(`${line}\n`);
  }

  close(): void {
    this.closed = true;
  }

  private redraw(above: string): void {
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const block = [...this.lines].map(([exportId, line]) => fit(exportId, line, width));
    this.stream.write(`\r${up(this.drawn)}${ERASE_DOWN}${above}${block.join('\n')}\n`);
    this.drawn = block.length;
  }
}
