// GAN Studio rater kit: a self-contained, offline rating page. Reads window.RATER_KIT (manifest.js,
// loaded by a <script> tag: a fetch of manifest.json would be refused on file:// pages), shows the
// items in the rater's order, keeps progress in localStorage (a reload resumes), and lets the rater
// download an answers JSON file to import back into GAN Studio. Keyboard first; every screen says
// its keys, and the answer keys also exist as buttons for a mouse or a screen reader.
//
// scripts/build-kit.mjs bundles this file with what it imports into one classic script
// (dist/rater-kit/kit.js, an IIFE: a file:// page can load no ES modules); the kit's index.html and
// kit.css are static files in resources/rater-kit. The exposure timing, the staircase, the truth
// encoding and the answer keys are the studio's own modules, so the kit and the app cannot drift.
// Import nothing that carries zod or Svelte (types are fine): the bundle must stay small.
import type { RatingAnswerValue, RatingType } from '../../../electron/common/api-rating.ts';
import { ANSWERS_FORMAT, ANSWERS_VERSION, KIT_FORMAT, KIT_VERSION, revealTruth, type KitAnswer, type KitAnswersFile, type KitItem, type KitManifest } from '../../../electron/common/rater-kit.ts';
import { staircaseReplay, staircaseStart } from '../../../electron/common/rating-staircase.ts';
import { keyName, memorisationKey, preferenceKey, qualityKey, realFakeKey } from '../lib/rating/answer-keys.ts';
import { MAX_REPEATS, missedByFrames, presentFor, type Exposure } from '../lib/rating/exposure.ts';

declare global {
  interface Window {
    RATER_KIT?: unknown;
  }
}

/** The types this page can run (a Record, so a new rating type fails the type check until it is handled here). */
const KNOWN_TYPES: Record<RatingType, true> = { real_fake: true, timed_real_fake: true, preference: true, quality: true, duplicates: true, memorisation: true };

/** A key handler returns false when the key means nothing on this screen (the browser keeps it). */
type KeyHandler = (key: string, e: KeyboardEvent) => boolean | void;
type Attrs = Record<string, string | undefined | null>;

interface StoredState {
  answers: KitAnswer[];
  /** the position at which the last break was shown (so a reload does not show it again) */
  breakShownAt: number;
}

const app = document.getElementById('app')!;
const bar = document.getElementById('progress')!;
const fill = bar.firstElementChild as HTMLElement;
const counter = document.getElementById('counter')!;
const status = document.getElementById('status')!;
const fullscreenButton = document.getElementById('fullscreen') as HTMLButtonElement;
let cleanup: (() => void) | null = null;

function el(tag: string, attrs?: Attrs, children?: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children ?? []) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function fail(message: string): void {
  if (cleanup) cleanup();
  cleanup = null;
  app.textContent = '';
  app.setAttribute('data-screen', 'error');
  app.appendChild(el('p', { class: 'error', role: 'alert', text: message }));
}

/** What is wrong with the manifest (null when the page can run it). */
function manifestProblem(raw: unknown): string | null {
  const kit = raw as Partial<KitManifest> | null | undefined;
  if (!kit || kit.format !== KIT_FORMAT || !Array.isArray(kit.items)) {
    return 'manifest.js is missing or is not a GAN Studio rater kit. Open index.html from the kit folder GAN Studio wrote.';
  }
  if (kit.version !== KIT_VERSION || typeof kit.type !== 'string' || !Object.prototype.hasOwnProperty.call(KNOWN_TYPES, kit.type)) {
    return 'This kit (version ' + kit.version + ', type "' + kit.type + '") needs a newer rater page; export it again from GAN Studio.';
  }
  if (kit.items.length === 0) return 'This kit holds no items.';
  if (kit.staircase) {
    try {
      staircaseStart(kit.staircase);
    } catch (err) {
      return 'This kit’s exposure staircase is invalid (' + (err as Error).message + '); export it again from GAN Studio.';
    }
  }
  return null;
}

function runKit(kit: KitManifest): void {
  const total = kit.items.length;
  const storeKey = 'gan-studio-kit:' + kit.sessionId + ':' + kit.rater + ':' + kit.itemsHash;
  let storageOk = true;
  const state = load();
  /** false until the rater presses space on the first screen of this page load (also after a reload) */
  let begun = false;

  function load(): StoredState {
    try {
      const s = JSON.parse(localStorage.getItem(storeKey) || 'null') as StoredState | null;
      if (s && Array.isArray(s.answers)) return s;
    } catch (err) {
      // private mode, storage disabled or a corrupt entry: start afresh
      storageOk = !(err && (err as Error).name === 'SecurityError');
    }
    return { answers: [], breakShownAt: -1 };
  }
  function save(): void {
    try {
      localStorage.setItem(storeKey, JSON.stringify(state));
      storageOk = true;
    } catch {
      // storage full or disabled: answers stay in memory until downloaded
      storageOk = false;
    }
  }

  const byId = new Map<string, KitItem>(kit.items.map((it) => [it.itemId, it]));
  // answers of another item list (cannot happen with the hash in the key, but a hand-edited store could)
  state.answers = state.answers.filter((a) => a && byId.has(a.itemId));

  const answeredSet = () => new Set(state.answers.map((a) => a.itemId));
  function nextIndex(): number {
    const answered = answeredSet();
    for (let i = 0; i < total; i++) if (!answered.has(kit.items[i]!.itemId)) return i;
    return -1;
  }

  function updateProgress(): void {
    const done = state.answers.length;
    fill.style.width = (100 * done) / total + '%';
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(done));
    bar.setAttribute('aria-valuetext', done + ' of ' + total + ' answered');
    counter.textContent = done + ' / ' + total;
  }

  /** Replaces the screen; `focus` gets the keyboard focus (else the main region, so focus is never lost). */
  function setScreen(name: string, children: Node[], focus: HTMLElement | null, announce?: string): void {
    if (cleanup) cleanup();
    cleanup = null;
    app.textContent = '';
    app.setAttribute('data-screen', name);
    for (const c of children) app.appendChild(c);
    updateProgress();
    if (announce) status.textContent = announce;
    (focus ?? app).focus({ preventScroll: true });
  }

  /**
   * Keys for the current screen. A button marked data-native-keys that has the focus keeps space and
   * Enter for itself (its click does the same thing), so one key press never acts twice.
   */
  function onKeys(handler: KeyHandler): void {
    const fn = (e: KeyboardEvent) => {
      if (e.repeat || e.altKey || e.ctrlKey || e.metaKey) return;
      const t = e.target as Element | null;
      if (t && t.hasAttribute && t.hasAttribute('data-native-keys') && (e.key === ' ' || e.key === 'Enter')) return;
      if (handler(keyName(e.key), e) !== false) e.preventDefault();
    };
    document.addEventListener('keydown', fn);
    const previous = cleanup;
    cleanup = () => {
      if (previous) previous();
      document.removeEventListener('keydown', fn);
    };
  }
  function onLeave(fn: () => void): void {
    const previous = cleanup;
    cleanup = () => {
      if (previous) previous();
      fn();
    };
  }

  /** A button that is not in the tab order and never takes the focus: the keys stay with the screen. */
  function answerButton(key: string, label: string, onClick: () => void): HTMLButtonElement {
    const b = el('button', { type: 'button', tabindex: '-1', 'aria-keyshortcuts': key.split(' / ')[0] }, [el('kbd', { text: key }), label]) as HTMLButtonElement;
    b.addEventListener('mousedown', (e) => e.preventDefault());
    b.addEventListener('click', onClick);
    return b;
  }
  const keys = (text: string) => el('p', { class: 'keys', text });

  function img(file: string, alt: string): HTMLElement {
    const i = el('img', { src: 'img/' + file, alt, draggable: 'false', class: 'item-img' });
    i.addEventListener('error', () => fail('The image img/' + file + ' is missing from the kit folder. Copy the whole folder, or export the kit again.'));
    return i;
  }
  /** Resolves once every image of the stage is decoded (a broken one shows the error screen). */
  const decoded = (stage: HTMLElement) => Promise.all(Array.from(stage.querySelectorAll('img'), (i) => i.decode().catch(() => {})));

  // ---- the HYPE_time staircase: the core's own rules (electron/common/rating-staircase.ts) ---------
  const truthOf = (item: KitItem) => revealTruth(item.itemId, kit.salt, item.t ?? 0);
  /** The exposure the staircase asks for on `item`, replayed from the rater's answers in its block. */
  function exposureFor(item: KitItem): number {
    const rules = kit.staircase;
    if (!rules) return 1000;
    if (!item.block) return staircaseStart(rules).exposureMs;
    const outcomes: boolean[] = [];
    for (const a of state.answers) {
      const it = byId.get(a.itemId);
      if (!it || it.block !== item.block) continue;
      outcomes.push(a.answer.kind === 'real_fake' && a.answer.choice === truthOf(it));
    }
    return staircaseReplay(rules, outcomes).exposureMs;
  }

  // ---- answers ------------------------------------------------------------------------------------
  /** when the item on screen was first shown (a frame timestamp): response times count from here */
  let shownAt = 0;
  function record(item: KitItem, answer: RatingAnswerValue, exposureMs?: number): void {
    if (answeredSet().has(item.itemId)) return;
    const a: KitAnswer = { itemId: item.itemId, answer, responseMs: Math.max(0, Math.round(performance.now() - shownAt)), answeredAt: Date.now() };
    if (exposureMs !== undefined) a.exposureMs = exposureMs;
    state.answers.push(a);
    save();
    show();
  }

  function answersFile(): string {
    const file: KitAnswersFile = {
      format: ANSWERS_FORMAT,
      version: ANSWERS_VERSION,
      sessionId: kit.sessionId,
      type: kit.type,
      rater: kit.rater,
      itemsHash: kit.itemsHash,
      signature: kit.signature,
      finished: state.answers.length === total,
      answers: state.answers,
    };
    return JSON.stringify(file, null, 1);
  }
  function download(): void {
    const name = 'answers-' + kit.sessionId + '-' + kit.rater.replace(/[^A-Za-z0-9_-]+/g, '_') + '.json';
    const url = URL.createObjectURL(new Blob([answersFile()], { type: 'application/json' }));
    const a = el('a', { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = 'The answers file ' + name + ' was saved to your downloads.';
  }

  // ---- screens ------------------------------------------------------------------------------------
  function start(): void {
    const done = state.answers.length;
    const go = el('button', { type: 'button', class: 'primary', 'data-native-keys': '', text: done ? 'Continue' : 'Begin' });
    const begin = () => {
      begun = true;
      show();
    };
    go.addEventListener('click', begin);
    const typeLabel = kit.title || 'Rating';
    const children = [
      el('h1', { text: typeLabel }),
      el('p', { text: kit.question }),
      keys('Keys: ' + kit.keys),
      el('p', { class: 'dim', text: 'Rater: ' + kit.rater + ' · ' + total + ' items' + (kit.breakEvery > 0 && total > kit.breakEvery ? ' · a short break is suggested every ' + kit.breakEvery + ' items' : '') }),
    ];
    if (done) children.push(el('p', { text: 'Welcome back: ' + done + ' of ' + total + ' items are answered; you continue where you stopped.' }));
    children.push(el('p', { class: storageOk ? 'dim' : 'error', text: storageOk ? 'Your answers are kept in this browser as you go, so you can close the page and come back.' : 'This browser does not let the page keep your answers: finish in one sitting and download them at the end.' }));
    children.push(go, keys('Press space to ' + (done ? 'continue' : 'begin') + '.'));
    setScreen('start', children, go, typeLabel + '. ' + (done ? done + ' of ' + total + ' answered. Press space to continue.' : 'Press space to begin.'));
    onKeys((k) => {
      if (k !== ' ') return false;
      begin();
    });
  }

  function takeBreak(i: number): void {
    state.breakShownAt = i;
    save();
    const go = el('button', { type: 'button', class: 'primary', 'data-native-keys': '', text: 'Continue' });
    go.addEventListener('click', show);
    setScreen('break', [el('h1', { text: 'Time for a short break.' }), el('p', { text: i + ' of ' + total + ' items are done. Rest your eyes for a minute; your answers are kept.' }), go, keys('Press space when you are ready to continue.')], go, 'Time for a short break. ' + i + ' of ' + total + ' done. Press space to continue.');
    onKeys((k) => {
      if (k !== ' ') return false;
      show();
    });
  }

  function finished(): void {
    const button = el('button', { id: 'download', type: 'button', class: 'primary', 'data-native-keys': '', text: 'Download answers (D)' });
    button.addEventListener('click', download);
    setScreen(
      'done',
      [
        el('h1', { text: 'Thank you — all ' + total + ' items are answered.' }),
        el('p', { text: 'Download the answers file and give it to the person running the session; they import it into GAN Studio.' }),
        button,
        keys('Press D (or Enter) to download.'),
      ],
      button,
      'All ' + total + ' items are answered. Press D to download the answers file.',
    );
    onKeys((k) => {
      if (k !== 'd' && k !== 'Enter') return false;
      download();
    });
  }

  function show(): void {
    const i = nextIndex();
    if (i < 0) return finished();
    if (!begun) return start();
    if (i > 0 && kit.breakEvery > 0 && i % kit.breakEvery === 0 && state.breakShownAt !== i) return takeBreak(i);
    const item = kit.items[i]!;
    renderers[kit.type](item, i);
  }

  /** The common frame of an item screen; `ready` runs once its images are decoded and painted. */
  function itemScreen(item: KitItem, i: number, content: HTMLElement, answers: HTMLElement[], keyText: string | null, ready: () => void): HTMLElement {
    const children = [el('p', { class: 'question', text: kit.question }), content, el('div', { class: 'answers' }, answers)];
    if (keyText) children.push(keys(keyText));
    const stage = el('div', { class: 'stage', 'data-item-id': item.itemId, 'data-position': String(i), 'data-ready': 'false' }, children);
    setScreen('item', [stage], null, 'Item ' + (i + 1) + ' of ' + total + '.');
    let live = true;
    onLeave(() => {
      live = false;
    });
    void decoded(stage).then(() => {
      if (!live) return;
      // the response time starts with the first frame that shows the item
      requestAnimationFrame(() => {
        requestAnimationFrame((t) => {
          if (!live) return;
          shownAt = t;
          stage.setAttribute('data-ready', 'true');
          ready();
        });
      });
    });
    return stage;
  }

  function realFakeKeys(onAnswer: (choice: 'real' | 'fake') => void): { buttons: HTMLButtonElement[]; handle: (k: string) => boolean | void } {
    const fake = () => onAnswer('fake');
    const real = () => onAnswer('real');
    return {
      buttons: [answerButton('F / ←', 'fake', fake), answerButton('J / →', 'real', real)],
      handle: (k) => {
        const choice = realFakeKey(k);
        if (choice === null) return false;
        onAnswer(choice);
      },
    };
  }

  const renderers: Record<RatingType, (item: KitItem, i: number) => void> = {
    real_fake: (item, i) => {
      let ready = false;
      const answer = (choice: 'real' | 'fake') => {
        if (ready) record(item, { kind: 'real_fake', choice });
      };
      const k = realFakeKeys(answer);
      itemScreen(item, i, el('div', { class: 'images single' }, [img(item.files[0]!, 'the image to judge')]), k.buttons, null, () => {
        ready = true;
      });
      onKeys(k.handle);
    },
    timed_real_fake: (item, i) => {
      const want = exposureFor(item);
      const picture = img(item.files[0]!, 'the image, shown briefly');
      const flash = el('div', { class: 'flash' }, [picture, el('div', { class: 'mask', 'aria-hidden': 'true' })]);
      let phase: 'loading' | 'ready' | 'exposing' | 'masked' = 'loading';
      let repeats = 0;
      let exposure: Exposure | null = null;
      let abort: AbortController | null = null;
      const setPhase = (p: typeof phase) => {
        phase = p;
        stage.setAttribute('data-timed-phase', p);
        showButton.disabled = p !== 'ready';
        for (const b of k.buttons) b.disabled = p !== 'masked';
      };
      const answer = (choice: 'real' | 'fake') => {
        if (phase !== 'masked' || !exposure) return;
        record(item, { kind: 'real_fake', choice }, Math.round(exposure.measuredMs * 10) / 10);
      };
      const k = realFakeKeys(answer);
      const reveal = () => {
        if (phase !== 'ready') return;
        setPhase('exposing');
        const controller = new AbortController();
        abort = controller;
        presentFor(
          want,
          (visible) => {
            // straight on the DOM inside the frame callback: the paint of this very frame shows it
            flash.classList.toggle('exposing', visible);
            if (visible) shownAt = performance.now();
          },
          controller.signal,
          (cb) => requestAnimationFrame(cb),
          (id) => cancelAnimationFrame(id),
        ).then(
          (e) => {
            abort = null;
            exposure = e;
            stage.setAttribute('data-exposure-measured', String(e.measuredMs));
            stage.setAttribute('data-exposure-frames', String(e.frames));
            if (missedByFrames(e) && repeats < MAX_REPEATS) {
              // the display skipped frames: this trial did not test the staircase's exposure; show it again
              repeats++;
              stage.setAttribute('data-exposure-repeats', String(repeats));
              exposure = null;
              status.textContent = 'The screen stuttered; press space to see the image again.';
              setPhase('ready');
            } else {
              shownAt = performance.now();
              setPhase('masked');
            }
          },
          () => {
            // the screen was left during the exposure; presentFor has put the mask up
          },
        );
      };
      const showButton = answerButton('Space', 'show the image', reveal);
      const stage = itemScreen(item, i, flash, [showButton, ...k.buttons], 'Space shows the image for ' + Math.round(want) + ' ms; then answer F / ← fake or J / → real', () => setPhase('ready'));
      stage.setAttribute('data-exposure-requested', String(want));
      stage.setAttribute('data-exposure-repeats', '0');
      setPhase('loading');
      onLeave(() => abort?.abort());
      onKeys((key) => {
        if (key === ' ') return reveal();
        return k.handle(key);
      });
    },
    preference: (item, i) => {
      let ready = false;
      const answer = (choice: 'left' | 'right' | 'tie') => {
        if (ready) record(item, { kind: 'preference', choice });
      };
      itemScreen(
        item,
        i,
        el('div', { class: 'images' }, [img(item.files[0]!, 'left image'), img(item.files[1]!, 'right image')]),
        [answerButton('F / ←', 'left', () => answer('left')), answerButton('Space', 'cannot tell', () => answer('tie')), answerButton('J / →', 'right', () => answer('right'))],
        null,
        () => {
          ready = true;
        },
      );
      onKeys((k) => {
        const choice = preferenceKey(k);
        if (choice === null) return false;
        answer(choice);
      });
    },
    quality: (item, i) => {
      let ready = false;
      const answer = (score: number) => {
        if (ready) record(item, { kind: 'quality', score });
      };
      const labels = ['very poor', 'poor', 'fair', 'good', 'excellent'];
      const buttons = labels.map((label, s) => answerButton(String(s + 1), label, () => answer(s + 1)));
      itemScreen(item, i, el('div', { class: 'images single' }, [img(item.files[0]!, 'the image to rate')]), buttons, null, () => {
        ready = true;
      });
      onKeys((k) => {
        const score = qualityKey(k);
        if (score === null) return false;
        answer(score);
      });
    },
    duplicates: (item, i) => {
      const n = item.files.length;
      const cols = Math.round(Math.sqrt(n));
      const marked = new Set<number>();
      let cursor = 0;
      let ready = false;
      const cells = item.files.map((f, c) => {
        const b = el('button', { type: 'button', tabindex: '-1', 'aria-pressed': 'false', 'aria-label': 'image ' + (c + 1) + ' of ' + n }, [img(f, ''), el('span', { class: 'num', 'aria-hidden': 'true', text: c < 9 ? String(c + 1) : '' })]);
        b.addEventListener('mousedown', (e) => e.preventDefault());
        b.addEventListener('click', () => {
          cursor = c;
          toggle();
        });
        return b;
      });
      const grid = el('div', { class: 'grid', role: 'group', 'aria-label': 'images to check for near-duplicates' }, cells);
      grid.style.gridTemplateColumns = 'repeat(' + cols + ', auto)';
      const paint = () => {
        cells.forEach((c, j) => {
          c.className = j === cursor ? 'cursor' : '';
          c.setAttribute('aria-pressed', marked.has(j) ? 'true' : 'false');
        });
      };
      const toggle = () => {
        if (marked.has(cursor)) marked.delete(cursor);
        else marked.add(cursor);
        paint();
        status.textContent = 'Image ' + (cursor + 1) + (marked.has(cursor) ? ' marked' : ' unmarked') + '.';
      };
      const submit = () => {
        if (!ready) return;
        const list: number[] = [];
        for (let j = 0; j < n; j++) if (marked.has(j)) list.push(j);
        record(item, { kind: 'duplicates', marked: list });
      };
      itemScreen(item, i, grid, [answerButton('Enter', 'submit', submit)], 'Arrows move · space or 1–9 marks / unmarks · Enter submits (none marked = no duplicates)', () => {
        ready = true;
      });
      paint();
      onKeys((k) => {
        if (k === 'ArrowLeft') cursor = (cursor + n - 1) % n;
        else if (k === 'ArrowRight') cursor = (cursor + 1) % n;
        else if (k === 'ArrowUp') cursor = (cursor + n - cols) % n;
        else if (k === 'ArrowDown') cursor = (cursor + cols) % n;
        else if (k === ' ') return toggle();
        else if (/^[1-9]$/.test(k) && Number(k) <= n) {
          cursor = Number(k) - 1;
          return toggle();
        } else if (k === 'Enter') return submit();
        else return false;
        paint();
      });
    },
    memorisation: (item, i) => {
      let ready = false;
      const answer = (copy: boolean) => {
        if (ready) record(item, { kind: 'memorisation', copy });
      };
      const pics = item.files.map((f, j) => img(f, j === 0 ? 'the generated image' : 'training image ' + j));
      itemScreen(item, i, el('div', { class: 'images memo' }, pics), [answerButton('N / F', 'not a copy', () => answer(false)), answerButton('Y / J', 'a copy', () => answer(true))], null, () => {
        ready = true;
      });
      onKeys((k) => {
        const copy = memorisationKey(k);
        if (copy === null) return false;
        answer(copy);
      });
    },
  };

  // full screen on request (a browser allows it only from a click or a key press)
  const syncFullscreen = () => {
    fullscreenButton.textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen';
  };
  fullscreenButton.addEventListener('click', () => {
    const p = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
    if (p && p.catch) p.catch(() => {});
  });
  document.addEventListener('fullscreenchange', syncFullscreen);
  if (!document.fullscreenEnabled) fullscreenButton.hidden = true;

  show();
}

const problem = manifestProblem(window.RATER_KIT);
if (problem) fail(problem);
else runKit(window.RATER_KIT as KitManifest);
