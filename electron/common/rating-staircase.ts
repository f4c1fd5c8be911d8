// The HYPE_time exposure staircase as a pure state machine (issue 8). The core drives it from the
// stored answers (the truth of an item never leaves the core); the renderer and the rater kit may use
// the same rules for display. Shorter after a right answer, longer after a wrong one, within
// [floorMs, ceilingMs]; the score is the mean exposure over the second half of the trials.

export interface StaircaseRules {
  startMs: number;
  floorMs: number;
  ceilingMs: number;
  /** multiplier after a right answer (0 < down < 1); a wrong answer divides by it */
  down: number;
}

export const DEFAULT_STAIRCASE: StaircaseRules = { startMs: 1000, floorMs: 100, ceilingMs: 2000, down: 0.8 };

export interface StaircaseState {
  /** the exposure for the next trial, in ms */
  exposureMs: number;
  trials: number;
  /** the exposure of every trial so far, oldest first */
  history: number[];
  /** 1 for a right answer, 0 for a wrong one, per trial */
  outcomes: number[];
}

export function staircaseStart(rules: StaircaseRules): StaircaseState {
  checkRules(rules);
  return { exposureMs: clamp(rules.startMs, rules), trials: 0, history: [], outcomes: [] };
}

/** The state after one trial at `state.exposureMs` answered right (`correct`) or wrong. */
export function staircaseStep(state: StaircaseState, rules: StaircaseRules, correct: boolean): StaircaseState {
  const next = correct ? state.exposureMs * rules.down : state.exposureMs / rules.down;
  return {
    exposureMs: clamp(next, rules),
    trials: state.trials + 1,
    history: [...state.history, state.exposureMs],
    outcomes: [...state.outcomes, correct ? 1 : 0],
  };
}

/** Replays a sequence of outcomes from the start. */
export function staircaseReplay(rules: StaircaseRules, outcomes: readonly boolean[]): StaircaseState {
  let s = staircaseStart(rules);
  for (const o of outcomes) s = staircaseStep(s, rules, o);
  return s;
}

/** HYPE_time-style score of one staircase: the mean exposure over the second half of its trials (null before any). */
export function staircaseScore(history: readonly number[]): number | null {
  if (history.length === 0) return null;
  const tail = history.slice(Math.floor(history.length / 2));
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

function clamp(ms: number, rules: StaircaseRules): number {
  return Math.min(rules.ceilingMs, Math.max(rules.floorMs, Math.round(ms * 1000) / 1000));
}

function checkRules(r: StaircaseRules): void {
  if (!(r.floorMs > 0 && r.floorMs <= r.ceilingMs)) throw new RangeError(`staircase floor ${r.floorMs} ms must be positive and not above the ceiling ${r.ceilingMs} ms`);
  if (!(r.down > 0 && r.down < 1)) throw new RangeError(`staircase factor ${r.down} must lie strictly between 0 and 1`);
}
