/**
 * Turns parsed verbose events into throttled progress snapshots with a real percentage: each table
 * weighs its pg_table_size, post-data steps their estimated cost, the schema phase a fixed share
 * (see weights.ts). The percentage never goes back and reaches 100 only in finish().
 */
import type { Clock } from '../clock.js';
import type { TableSize } from '../pg/catalog.js';
import { sectionOfDescription } from './toc-descriptions.js';
import type { VerboseEvent } from './verbose-lines.js';
import {
  LARGE_OBJECTS_TABLE,
  MIN_WEIGHT,
  postDataWeights,
  qualifiedName,
  schemaWeight,
  tableWeight,
  type PostDataItem,
} from './weights.js';

export type ProgressPhase = 'starting' | 'schema' | 'data' | 'post-data' | 'finishing' | 'done';

const PHASES: readonly ProgressPhase[] = ['starting', 'schema', 'data', 'post-data', 'finishing', 'done'];

export interface ProgressSnapshot {
  phase: ProgressPhase;
  /** 0..100 with one decimal; 100 only once finished. */
  percent: number;
  /** "<schema>.<table>" as the tools print it. */
  currentTable: string | null;
  tablesDone: number;
  tablesTotal: number;
  /** Bytes written (backup) or read (restore), as reported with setBytes. */
  bytes: number;
  etaSeconds: number | null;
  /** ISO timestamp. */
  updatedAt: string;
}

export interface ProgressTrackerOptions {
  /**
   * Relations with table data, read before the job; may be empty (every table then weighs the same
   * minimum). List LARGE_OBJECTS_TABLE with its size to weigh large objects by it.
   */
  tables: readonly TableSize[];
  /** What a row weighs beyond its bytes (ROW_COST_BYTES for dumps or restores); default 0. */
  rowCostBytes?: number;
  /**
   * Post-data steps that will be reported, from the TOC: their number (each of unknown cost), or
   * postDataItemsFromToc(). 0 for pg_dump -Fc/-Fd, which never reports them.
   */
  postDataItems: number | readonly PostDataItem[];
  clock: Clock;
  onSnapshot: (snapshot: ProgressSnapshot) => void;
  /** At most one snapshot per interval; default 100 ms (about 10 per second). */
  minIntervalMs?: number;
  /**
   * pg_dump -j: several tables run at once and each ends with its "finished item" line. Otherwise
   * a table ends when the next item starts.
   */
  parallel?: boolean;
  /**
   * The size of the input a restore reads, when no table sizes are known (a file from outside):
   * the bar then follows the bytes read, since equal guesses per table made it jump by whole
   * tables and sit still inside a big one.
   */
  inputBytes?: number;
}

/** The number of catalog / pre-data steps is not known up front: half the schema share after this many. */
const SCHEMA_HALF_STEPS = 25;
const MAX_BEFORE_FINISH = 99.9;
const LARGE_OBJECTS = qualifiedName(LARGE_OBJECTS_TABLE.schema, LARGE_OBJECTS_TABLE.name);

interface Slot {
  name: string;
  weight: number;
  /** Tables this slot stands for: 0 for large objects, more than 1 when printed names collide. */
  tables: number;
  fraction: number;
  state: 'pending' | 'running' | 'done';
}

export class ProgressTracker {
  private readonly clock: Clock;
  private readonly onSnapshot: (snapshot: ProgressSnapshot) => void;
  private readonly minIntervalMs: number;
  private readonly parallel: boolean;
  private readonly startedAt: number;
  private readonly inputBytes: number | null;

  private readonly slots = new Map<string, Slot>();
  /** In start order; the last one is the current table. */
  private running: Slot[] = [];
  private readonly namedSteps = new Map<string, number[]>();
  private readonly anonymousSteps: number[] = [];
  private runningStep: number | null = null;
  private readonly schemaWeight: number;
  private total: number;
  // Kept as running sums: setBytes() runs for every chunk and must not walk thousands of tables.
  private doneWeight = 0;
  private tablesDone = 0;
  private tablesTotal = 0;

  private schemaSteps = 0;
  private phaseIndex = 0;
  private bytes = 0;
  private percent = 0;

  private lastEmittedKey: string | null = null;
  private lastEmitAt: number | null = null;
  private timer: { cancel(): void } | null = null;
  private closed = false;

  constructor(options: ProgressTrackerOptions) {
    this.clock = options.clock;
    this.onSnapshot = options.onSnapshot;
    this.minIntervalMs = options.minIntervalMs ?? 100;
    this.parallel = options.parallel ?? false;
    this.startedAt = this.clock.now();
    this.inputBytes = options.tables.length === 0 && options.inputBytes ? options.inputBytes : null;

    let dataWeight = 0;
    for (const table of options.tables) {
      const name = qualifiedName(table.schema, table.name);
      const slot = this.slots.get(name) ?? this.addSlot(name, 0, 0);
      // Two tables can print the same name ("a.b"."c" and "a"."b.c"): the lines cannot tell them apart.
      const weight = tableWeight(table, options.rowCostBytes);
      slot.weight += weight;
      dataWeight += weight;
      if (name !== LARGE_OBJECTS) {
        slot.tables += 1;
        this.tablesTotal += 1;
      }
    }

    const steps = options.postDataItems;
    let postWeight = 0;
    if (typeof steps === 'number') {
      // Only a count: every step is of unknown cost and matches whatever post-data item comes.
      const unknown = Array.from({ length: steps }, (): PostDataItem => ({ kind: '', name: '', bytes: null }));
      this.anonymousSteps.push(...postDataWeights(unknown, dataWeight));
      postWeight = this.anonymousSteps.reduce((sum, w) => sum + w, 0);
    } else {
      const weights = postDataWeights(steps, dataWeight);
      steps.forEach((step, i) => {
        const weight = weights[i] ?? MIN_WEIGHT;
        const key = stepKey(step.kind, step.name);
        this.namedSteps.set(key, [...(this.namedSteps.get(key) ?? []), weight]);
        postWeight += weight;
      });
    }

    this.schemaWeight = schemaWeight(dataWeight + postWeight);
    this.total = this.schemaWeight + dataWeight + postWeight;
  }

  handle(event: VerboseEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case 'catalog':
        this.schemaStep();
        break;
      case 'object':
        this.object(event.kind, event.name);
        break;
      case 'table-data':
        this.start(this.slots.get(event.qualified) ?? this.addUnknownSlot(event.qualified, 1));
        break;
      case 'executing':
        this.enter('data');
        this.nextItem();
        break;
      case 'large-objects-started':
        this.start(this.largeObjects());
        break;
      case 'large-object':
        if (event.step === 'restore') {
          this.start(this.largeObjects());
        } else {
          this.enter('data');
          this.nextItem();
        }
        break;
      case 'large-objects-done':
        this.complete(this.largeObjects());
        break;
      case 'item-finished':
        this.itemFinished(event.kind, event.tag);
        break;
      default:
        // Errors, warnings, details and hints do not move progress.
        return;
    }
    this.update();
  }

  setBytes(bytes: number): void {
    if (this.closed) return;
    this.bytes = bytes;
    this.update();
  }

  /** Fraction (0..1) of the most recently started table, e.g. from pg_stat_progress_copy. */
  setCurrentTableFraction(fraction: number): void {
    if (this.closed) return;
    const slot = this.running.at(-1);
    if (!slot) return;
    slot.fraction = Math.max(slot.fraction, Math.min(Math.max(fraction, 0), 1));
    this.update();
  }

  /**
   * The tools exited successfully; only the job's own closing steps remain (COMMIT, rename, ...).
   * Not one of the events because no line announces it.
   */
  beginFinishing(): void {
    if (this.closed) return;
    this.nextItem();
    for (const slot of this.running) this.markDone(slot);
    this.running = [];
    this.enter('finishing');
    this.percent = MAX_BEFORE_FINISH;
    this.deliver();
  }

  /** Emits 100% and phase 'done' at once, whatever the throttle says. Later calls do nothing. */
  finish(): void {
    if (this.closed) return;
    this.timer?.cancel();
    this.running = [];
    this.enter('done');
    this.emit(this.snapshot());
    this.closed = true;
  }

  /** The job is over (failed, cancelled, or after finish): drop a pending trailing snapshot, ignore later calls. */
  dispose(): void {
    this.timer?.cancel();
    this.timer = null;
    this.closed = true;
  }

  snapshot(): ProgressSnapshot {
    const now = this.clock.now();
    const done = this.phase === 'done';
    const percent = done ? 100 : this.percent;
    const elapsedSeconds = (now - this.startedAt) / 1000;
    return {
      phase: this.phase,
      percent,
      currentTable: this.currentTable,
      tablesDone: done ? this.tablesTotal : this.tablesDone,
      tablesTotal: this.tablesTotal,
      bytes: this.bytes,
      etaSeconds: done
        ? 0
        : percent >= 1 && elapsedSeconds >= 1
          ? Math.round((elapsedSeconds * (100 - percent)) / percent)
          : null,
      updatedAt: new Date(now).toISOString(),
    };
  }

  /** The table being copied now, as the tools print it. */
  get currentTable(): string | null {
    return [...this.running].reverse().find((slot) => slot.tables > 0)?.name ?? null;
  }

  private get phase(): ProgressPhase {
    return PHASES[this.phaseIndex] ?? 'done';
  }

  private enter(phase: ProgressPhase): void {
    this.phaseIndex = Math.max(this.phaseIndex, PHASES.indexOf(phase));
  }

  private schemaStep(): void {
    if (this.phaseIndex > PHASES.indexOf('schema')) return;
    this.enter('schema');
    this.schemaSteps += 1;
  }

  private object(kind: string, name: string): void {
    const inPostData = this.phaseIndex >= PHASES.indexOf('post-data');
    const section = sectionOfDescription(kind) ?? (inPostData ? 'post-data' : 'pre-data');
    if (section === 'pre-data') {
      this.schemaStep();
    } else {
      this.enter(section);
      this.nextItem();
      if (section === 'post-data') this.runningStep = this.takeStepWeight(kind, name);
    }
  }

  /** In a sequential run, a new item means the previous one is done. */
  private nextItem(): void {
    if (this.runningStep !== null) this.doneWeight += this.runningStep;
    this.runningStep = null;
    if (this.parallel) return;
    for (const slot of this.running) this.markDone(slot);
    this.running = [];
  }

  private start(slot: Slot): void {
    this.enter('data');
    if (slot.state !== 'pending') return; // pg_dump -Fp prints "processing data" and "dumping contents"
    this.nextItem();
    slot.state = 'running';
    this.running.push(slot);
  }

  private complete(slot: Slot): void {
    this.markDone(slot);
    this.running = this.running.filter((other) => other !== slot);
  }

  private markDone(slot: Slot): void {
    if (slot.state === 'done') return;
    slot.state = 'done';
    this.doneWeight += slot.weight;
    this.tablesDone += slot.tables;
  }

  /** "finished item N TABLE DATA <tag>" names the table without its schema. */
  private itemFinished(kind: string, tag: string): void {
    if (kind === 'BLOBS') this.complete(this.largeObjects());
    if (kind !== 'TABLE DATA') return;
    const matches = (slot: Slot) => slot.tables > 0 && slot.name.endsWith(`.${tag}`);
    const slot =
      this.running.find(matches) ??
      [...this.slots.values()].find((other) => other.state === 'pending' && matches(other));
    if (slot) this.complete(slot);
  }

  private takeStepWeight(kind: string, name: string): number {
    const weight = this.namedSteps.get(stepKey(kind, name))?.shift() ?? this.anonymousSteps.shift();
    if (weight !== undefined) return weight;
    this.total += MIN_WEIGHT;
    return MIN_WEIGHT;
  }

  private largeObjects(): Slot {
    return this.slots.get(LARGE_OBJECTS) ?? this.addUnknownSlot(LARGE_OBJECTS, 0);
  }

  /** Not in the size list (created since it was read): counted with the minimum weight. */
  private addUnknownSlot(name: string, tables: number): Slot {
    this.total += MIN_WEIGHT;
    this.tablesTotal += tables;
    return this.addSlot(name, MIN_WEIGHT, tables);
  }

  private addSlot(name: string, weight: number, tables: number): Slot {
    const slot: Slot = { name, weight, tables, fraction: 0, state: 'pending' };
    this.slots.set(name, slot);
    return slot;
  }

  private update(): void {
    let done = this.schemaWeight * this.schemaFraction() + this.doneWeight;
    for (const slot of this.running) done += slot.weight * slot.fraction;
    const fraction = this.inputBytes === null ? done / this.total : this.bytes / this.inputBytes;
    // The epsilon keeps 0.9 * 1000 from flooring to 899.
    const percent = Math.floor(1000 * fraction + 1e-9) / 10;
    this.percent = Math.max(this.percent, Math.min(percent, MAX_BEFORE_FINISH));
    this.deliver();
  }

  private schemaFraction(): number {
    if (this.phaseIndex > PHASES.indexOf('schema')) return 1;
    return this.schemaSteps / (this.schemaSteps + SCHEMA_HALF_STEPS);
  }

  /** Emits now, or once the interval since the last emission is over, carrying the latest state. */
  private deliver(): void {
    if (this.closed || this.timer) return;
    const snapshot = this.snapshot();
    if (stateKey(snapshot) === this.lastEmittedKey) return;
    const wait = this.lastEmitAt === null ? 0 : this.lastEmitAt + this.minIntervalMs - this.clock.now();
    if (wait > 0) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.deliver();
      }, wait);
      return;
    }
    this.emit(snapshot);
  }

  private emit(snapshot: ProgressSnapshot): void {
    this.lastEmitAt = this.clock.now();
    this.lastEmittedKey = stateKey(snapshot);
    this.onSnapshot(snapshot);
  }
}

function stepKey(kind: string, name: string): string {
  return `${kind} ${name}`;
}

/** What a subscriber sees change; the ETA and timestamp alone are not worth an event. */
function stateKey(s: ProgressSnapshot): string {
  return JSON.stringify([s.phase, s.percent, s.currentTable, s.tablesDone, s.tablesTotal, s.bytes]);
}
