import { LIMIT_DENY_STATUS, type EngineSettings } from "./engine-settings.js";
import { MatchFilters } from "./match-filters.js";
import type { CompiledRule } from "./matching/compiled-rule.js";
import { planFor, type ChainStep, type RuleBatch, type SourcePlans, type ValuePlan } from "./matching/scan-plan.js";
import { BodyAccumulator, CHUNK_OVERLAP_BYTES } from "./body-accumulator.js";
import { readableExcerpt, toByteString } from "./byte-strings.js";
import { parseCookies } from "./parsers/cookie-parser.js";
import { RequestBodyStream, type BodySink } from "./request-body-stream.js";
import { isRequestPhase, TARGET_LABELS, type TargetSource } from "./target-sources.js";
import type { TransformContext } from "./transformations/transform-context.js";
import { parseUrlEncoded } from "./parsers/url-encoded-parser.js";
import type {
  BodyChunkInfo,
  Budget,
  HeaderField,
  Phase,
  RequestHead,
  ResponseHead,
  RuleMatch,
  Transaction,
  TruncationReason,
  Verdict,
} from "./types.js";


/** A mask with every foldable child's bit set: passes where every rule of the batch applies. */
const ALL_FOLDED = -1;
const NEWLINE = 0x0a;

/** Whether a rule of the given owner (see `RuleBatch.owners`) applies in a pass with this mask. */
function isFolded(mask: number, owner: number | undefined): boolean {
  return owner === undefined || owner < 0 || ((mask >>> owner) & 1) === 1;
}

/** Above this many names the built-in sort is used: insertion sort is quadratic. */
const INSERTION_SORT_MAX = 32;

/**
 * Sorts header names in place, in the order Array.prototype.sort gives strings. Insertion sort for
 * the usual dozen headers or so: the built-in sort allocates a work array on every call. At most
 * 496 comparisons, each bounded by the names' lengths: linear in the header bytes.
 */
export function sortedNames(names: string[]): string[] {
  if (names.length > INSERTION_SORT_MAX) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    let j = i - 1;
    for (; j >= 0 && names[j]! > name; j--) names[j + 1] = names[j]!;
    names[j + 1] = name;
  }
  return names;
}

const ARGUMENT_SOURCES: ReadonlySet<TargetSource> = new Set(["query_args", "body_args", "json", "multipart"]);

interface PendingValue {
  readonly plan: ValuePlan;
  readonly value: string;
  /** The value's bytes when its scan already made them, reused if the joined pass rescans it alone. */
  readonly bytes: Buffer | undefined;
  readonly source: TargetSource;
  readonly name: string;
  /** Something matched this value outside the joined pass (or it must not be remembered as clean). */
  dirty: boolean;
}

interface Direction {
  score: number;
  denyStatus: number;
  matchedAny: boolean;
  /** Points and certainty from monitored rules: reported, never enforced. */
  monitoredScore: number;
  monitoredDeny: boolean;
}

function newDirection(): Direction {
  return { score: 0, denyStatus: 0, matchedAny: false, monitoredScore: 0, monitoredDeny: false };
}

/** What the engine shares with every transaction. */
export interface EngineCore {
  readonly settings: EngineSettings;
  readonly plans: SourcePlans;
  readonly rules: readonly CompiledRule[];
}

/** Per-request state. Cheap to create: plain fields, everything else allocated on first use. */
export class EngineTransaction implements Transaction, BodySink, TransformContext {
  readonly maxDecodePasses: number;
  decodePassesExhausted = false;

  private readonly inbound = newDirection();
  private readonly outbound = newDirection();
  private fired: Set<number> | undefined;
  /** Scratch space for one value's transformation outputs, one entry per chain step. */
  private readonly outputs: string[] = [];
  private readonly covered: boolean[] = [];
  /** Set and negated-rule hits so far: tells whether a value's scan found anything. */
  private hits = 0;
  /** Untouched values waiting to be scanned together at the end of the phase. */
  private pending: PendingValue[] = [];
  private readonly truncated: TruncationReason[] = [];
  private matches: RuleMatch[] = [];
  private phase: Phase = "request_headers";
  private budget: Budget | undefined;
  private stopped = false;
  private argumentCount = 0;
  private requestContentType = "";
  private readonly requestBody: BodyAccumulator;
  private requestStream: RequestBodyStream | undefined;
  private readonly responseBody: BodyAccumulator;

  constructor(
    private readonly core: EngineCore,
    private readonly filters?: MatchFilters,
  ) {
    this.maxDecodePasses = core.settings.limits.maxDecodePasses;
    this.requestBody = new BodyAccumulator(core.settings.limits.maxBodyBytes, true);
    // Response bodies are only scanned raw, chunk by chunk: keeping the overlap is enough.
    this.responseBody = new BodyAccumulator(core.settings.limits.maxBodyBytes, false);
  }

  inspectRequestHeaders(head: RequestHead, budget: Budget): Verdict {
    this.begin("request_headers", budget);
    const target = toByteString(head.path);
    const queryAt = target.indexOf("?");
    this.add("method", "", head.method);
    this.add("uri", "", target);
    this.add("path", "", queryAt < 0 ? target : target.slice(0, queryAt));
    if (queryAt >= 0) {
      const query = target.slice(queryAt + 1);
      this.add("query", "", query);
      parseUrlEncoded(query, this, "query_arg_names", "query_args");
    }
    this.addHeaders(head.headers, "headers", "header_names");
    return this.finish(this.inbound);
  }

  inspectRequestBody(chunk: Buffer, info: BodyChunkInfo, budget: Budget): Verdict {
    this.begin("request_body", budget);
    if (!info.complete) this.truncate("partial_body");
    const from = this.requestBody.received;
    const ready = this.acceptChunk(this.requestBody, chunk, info, "body");
    if (!this.stopped) {
      this.requestStream ??= new RequestBodyStream(this.requestContentType, this.core.settings.limits);
      for (const reason of this.requestStream.accept(this.requestBody, from, ready, this)) this.truncate(reason);
    }
    return this.finish(this.inbound);
  }

  inspectResponseHeaders(head: ResponseHead, budget: Budget): Verdict {
    this.begin("response_headers", budget);
    this.add("status", "", String(head.status));
    this.addHeaders(head.headers, "response_headers", "response_header_names");
    return this.finish(this.outbound);
  }

  inspectResponseBody(chunk: Buffer, info: BodyChunkInfo, budget: Budget): Verdict {
    this.begin("response_body", budget);
    if (!info.complete) this.truncate("partial_body");
    this.acceptChunk(this.responseBody, chunk, info, "response_body");
    return this.finish(this.outbound);
  }

  /** ValueSink: counts arguments against the limit, honours the budget, and scans the value. */
  add(source: TargetSource, name: string, value: string): boolean {
    return this.addValue(source, name, value, undefined);
  }

  /** `add`, with the value's UTF-8 bytes when the caller already holds them (see `scanValue`). */
  private addValue(source: TargetSource, name: string, value: string, bytes: Buffer | undefined): boolean {
    if (this.stopped) return false;
    if (ARGUMENT_SOURCES.has(source) && ++this.argumentCount > this.core.settings.limits.maxArguments) {
      this.truncate("argument_limit");
      return false;
    }
    return this.inspect(source, name, value, bytes);
  }

  /** BodySink: part of a value cut by a chunk edge; scanned, but the whole value is what counts. */
  addFragment(source: TargetSource, name: string, value: string): boolean {
    return !this.stopped && this.inspect(source, name, value, undefined);
  }

  private inspect(source: TargetSource, name: string, value: string, bytes: Buffer | undefined): boolean {
    if (this.budget?.exceeded()) {
      this.truncate("time_budget");
      this.stopped = true;
      return false;
    }
    const plans = this.core.plans.get(source);
    if (!plans || value.length === 0) return true;
    const plan = planFor(plans, source, name);
    if (plan) this.scan(plan, value, source, name, bytes);
    return true;
  }

  private addHeaders(headers: readonly HeaderField[], valueSource: TargetSource, nameSource: TargetSource): void {
    const names: string[] = [];
    for (const header of headers) {
      const name = header.name.toLowerCase();
      const value = header.value.toString("latin1");
      names.push(name);
      this.add(nameSource, name, name);
      this.add(valueSource, name, value);
      if (valueSource === "headers") {
        if (name === "cookie") parseCookies(value, this);
        else if (name === "content-type") this.requestContentType = value;
      }
    }
    const listSource = valueSource === "headers" ? "header_name_list" : "response_header_name_list";
    this.add(listSource, "", sortedNames(names).join(","));
  }

  private acceptChunk(body: BodyAccumulator, chunk: Buffer, info: BodyChunkInfo, source: TargetSource): boolean {
    const accepted = body.append(chunk);
    if (accepted < chunk.length) this.truncate("body_limit");
    if (accepted > 0 && this.core.plans.has(source)) {
      const window = body.window(accepted, CHUNK_OVERLAP_BYTES);
      this.addValue(source, "", window, body.windowBytes(accepted, CHUNK_OVERLAP_BYTES));
    }
    return info.last || body.full;
  }

  private scan(plan: ValuePlan, value: string, source: TargetSource, name: string, bytes: Buffer | undefined): void {
    if (plan.clean.has(value)) return;
    const hitsBefore = this.hits;
    const exhaustedBefore = this.decodePassesExhausted;
    this.decodePassesExhausted = false;
    const deferred = this.scanValue(plan, value, source, name, bytes);
    const clean = this.hits === hitsBefore && !this.decodePassesExhausted;
    this.decodePassesExhausted ||= exhaustedBefore;
    if (deferred) deferred.dirty = !clean;
    else if (clean) plan.clean.add(value);
  }

  /**
   * Scans a value; returns its pending entry when part of the scan waits for the joined pass.
   * `valueBytes`, when given, is the value's UTF-8 encoding, taken instead of encoding it again.
   */
  private scanValue(
    plan: ValuePlan,
    value: string,
    source: TargetSource,
    name: string,
    valueBytes: Buffer | undefined,
  ): PendingValue | undefined {
    const steps = plan.steps;
    const outputs = this.outputs;
    const covered = this.covered;
    // Nothing any mergeable transformation would change: their outputs are the value itself.
    const untouched = !plan.anyChange.test(value);
    if (untouched && plan.untouched) {
      const { now, joined } = plan.untouched;
      // Encoded at most once (or the caller's bytes): scanned now, and kept for the joined pass
      // should it rescan the value alone.
      const raw = now.length > 0 ? (valueBytes ?? Buffer.from(value, "utf8")) : valueBytes;
      let deferred: PendingValue | undefined;
      if (joined.length > 0) {
        deferred = { plan, value, bytes: raw, source, name, dirty: false };
        this.pending.push(deferred);
      }
      if (raw) for (const batch of now) this.scanBatch(batch, raw, source, name, ALL_FOLDED);
      for (const i of plan.unmergeable) {
        const step = steps[i];
        if (!step) continue;
        const output = this.stepOutput(steps, step, value, true);
        outputs[i] = output;
        if (!output || step.own.length === 0) continue;
        const bytes = Buffer.from(output, "utf8");
        for (const batch of step.own) this.scanBatch(batch, bytes, source, name, 0);
      }
      return deferred;
    }
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (!step) continue;
      outputs[i] = this.stepOutput(steps, step, value, untouched);
      covered[i] = false;
    }
    // Each byte of the byte string becomes one code point (U+0000-U+00FF) in valid UTF-8, so RE2
    // (always in UTF-8 mode) sees every byte, including ones that are not valid UTF-8 on the wire.
    let lastText = "";
    let lastBytes: Buffer | undefined;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const output = outputs[i];
      if (!step || covered[i] || !output) continue;
      let mask = 0;
      for (let bit = 0; bit < step.foldable.length; bit++) {
        const members = step.foldable[bit]?.steps ?? [];
        let same = true;
        for (let k = 0; k < members.length && same; k++) same = outputs[members[k] ?? 0] === output;
        if (same) {
          mask |= 1 << bit;
          for (const m of members) covered[m] = true;
        }
      }
      const batches = mask === 0 ? step.own : step.folded;
      if (batches.length === 0) continue;
      if (output !== lastText || !lastBytes) {
        lastText = output;
        lastBytes = output === value && valueBytes ? valueBytes : Buffer.from(output, "utf8");
      }
      for (const batch of batches) this.scanBatch(batch, lastBytes, source, name, mask);
    }
    return undefined;
  }

  /**
   * A step's output: its transformation of its parent's output (of the value, for the root). On
   * an untouched value every mergeable step's output is the value itself, so none is computed or
   * read from `outputs` (the untouched pass does not fill it).
   */
  private stepOutput(steps: readonly ChainStep[], step: ChainStep, value: string, untouched: boolean): string {
    if (untouched && step.mergeable) return value;
    const parent = steps[step.parent];
    const input = !parent || (untouched && parent.mergeable) ? value : (this.outputs[step.parent] ?? "");
    return step.transform && input.length > 0 ? step.transform(input, this) : input;
  }

  /**
   * Scans the values held back by `scan`: those of one plan are joined by newlines and scanned
   * once per batch with the multi-line set; only when that finds something is each value scanned
   * on its own. Benign requests mostly end here with one pass per plan.
   */
  private flushPending(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    // Pending values arrive grouped by source, so consecutive runs usually share a plan.
    let from = 0;
    while (from < pending.length) {
      const plan = pending[from]?.plan;
      let to = from + 1;
      while (to < pending.length && pending[to]?.plan === plan) to++;
      if (plan) this.scanJoined(plan, pending.slice(from, to));
      from = to;
    }
  }

  private scanJoined(plan: ValuePlan, items: readonly PendingValue[]): void {
    const joined = items.length > 1 ? Buffer.from(items.map((item) => item.value).join("\n"), "utf8") : undefined;
    let single: Buffer[] | undefined;
    for (const batch of plan.untouched?.joined ?? []) {
      if (joined && batch.set && batch.set.match(joined).length === 0) continue;
      single ??= items.map((item) => item.bytes ?? Buffer.from(item.value, "utf8"));
      for (let k = 0; k < items.length; k++) {
        const item = items[k];
        const bytes = single[k];
        if (!item || !bytes) continue;
        const before = this.hits;
        this.scanBatch(batch, bytes, item.source, item.name, ALL_FOLDED);
        if (this.hits !== before) item.dirty = true;
      }
    }
    for (const item of items) if (!item.dirty) plan.clean.add(item.value);
  }

  /** Scans one batch; `mask` says which foldable children were folded into this pass. */
  private scanBatch(batch: RuleBatch, bytes: Buffer, source: TargetSource, name: string, mask: number): void {
    const owners = batch.owners;
    if (batch.set) {
      const found = batch.set.match(bytes);
      // The set is multi-line: on a value with its own newlines, only the rule's regex is exact.
      const multiline = found.length > 0 && bytes.includes(NEWLINE);
      for (const i of found) {
        const rule = batch.rules[i];
        if (!rule || !isFolded(mask, owners[i]) || (multiline && !rule.regex.test(bytes))) continue;
        this.hits++;
        this.record(rule, bytes, source, name);
      }
    }
    const negatedFrom = batch.rules.length;
    for (let k = 0; k < batch.negated.length; k++) {
      const rule = batch.negated[k];
      if (!rule || !isFolded(mask, owners[negatedFrom + k]) || rule.regex.test(bytes)) continue;
      this.hits++;
      this.record(rule, bytes, source, name);
    }
  }

  private record(rule: CompiledRule, bytes: Buffer, source: TargetSource, name: string): void {
    this.fired ??= new Set();
    if (this.fired.has(rule.index)) return;
    const definition = rule.definition;
    // An excluded match is not a firing: the same rule may still match another target.
    if (this.filters?.excludes(definition, source, name)) return;
    this.fired.add(rule.index);
    const label = TARGET_LABELS[source];
    const target = name === "" || label === "header_names" ? label : `${label}:${name}`;
    const monitored = this.filters?.monitors(definition) ?? false;
    const found = definition.negate ? bytes : rule.regex.exec(bytes)?.[0];
    const matched = found ? readableExcerpt(found) : "";
    this.matches.push({
      ruleId: definition.id,
      category: definition.category,
      severity: definition.severity,
      score: rule.points,
      phase: this.phase,
      target,
      matched,
      ...(monitored ? { monitored: true } : {}),
    });
    const direction = this.direction();
    direction.matchedAny = true;
    if (monitored) {
      direction.monitoredScore += rule.points;
      if (definition.action === "deny") direction.monitoredDeny = true;
      return;
    }
    direction.score += rule.points;
    if (definition.action === "deny" && direction.denyStatus === 0) direction.denyStatus = this.core.settings.denyStatus;
  }

  /** The direction the current phase scores in. */
  private direction(): Direction {
    return isRequestPhase(this.phase) ? this.inbound : this.outbound;
  }

  private begin(phase: Phase, budget: Budget): void {
    this.phase = phase;
    this.budget = budget;
    this.stopped = false;
    this.matches = [];
  }

  private truncate(reason: TruncationReason): void {
    if (!this.truncated.includes(reason)) this.truncated.push(reason);
    if (reason !== "partial_body" && reason !== "unparsable_body" && this.core.settings.onLimit === "deny") {
      const direction = this.direction();
      if (direction.denyStatus === 0) direction.denyStatus = LIMIT_DENY_STATUS;
    }
  }

  private finish(direction: Direction): Verdict {
    this.flushPending();
    if (this.decodePassesExhausted) this.truncate("decode_passes");
    const threshold = direction === this.inbound ? this.core.settings.inboundThreshold : this.core.settings.outboundThreshold;
    if (direction.denyStatus === 0 && direction.score >= threshold) direction.denyStatus = this.core.settings.denyStatus;
    const action = direction.denyStatus !== 0 ? "deny" : direction.matchedAny ? "log" : "allow";
    const wouldDeny = action !== "deny" && (direction.monitoredDeny || direction.score + direction.monitoredScore >= threshold);
    return {
      action,
      status: direction.denyStatus !== 0 ? direction.denyStatus : 200,
      score: direction.score,
      matches: this.matches,
      truncated: this.truncated.slice(),
      ...(wouldDeny ? { wouldDeny: true } : {}),
    };
  }
}
