/** Renders job progress: a redrawn bar on a terminal, plain lines (at most one per second) otherwise. */
export interface ProgressView {
  phase?: string;
  percent?: number;
  currentTable?: string | null;
  etaSeconds?: number | null;
  tablesDone?: number;
  tablesTotal?: number;
}

export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function progressLine(view: ProgressView, width = 30): string {
  const percent = Math.min(100, Math.max(0, view.percent ?? 0));
  const filled = Math.round((percent / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const tables = view.tablesTotal ? ` ${view.tablesDone ?? 0}/${view.tablesTotal} tables` : '';
  const table = view.currentTable ? ` ${view.currentTable}` : '';
  return `${bar} ${percent.toFixed(1).padStart(5)}% ${view.phase ?? ''}${tables} ETA ${formatEta(view.etaSeconds)}${table}`;
}

export function createProgressDisplay(stream: NodeJS.WriteStream, now: () => number = Date.now) {
  let lastPlain = 0;
  let lastPhase: string | undefined;
  let drawn = false;
  return {
    update(view: ProgressView) {
      if (stream.isTTY) {
        const columns = stream.columns || 100;
        stream.write(
          `\r${progressLine(view)
            .slice(0, columns - 1)
            .padEnd(columns - 1)}`,
        );
        drawn = true;
        return;
      }
      if (now() - lastPlain >= 1000 || view.phase !== lastPhase) {
        lastPlain = now();
        lastPhase = view.phase;
        stream.write(`${progressLine(view)}\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
    /** Wipes a drawn bar so that another line can be written; the next update draws it again. */
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
