// GAN Studio rater kit: a self-contained, offline rating page. Reads window.RATER_KIT (manifest.js,
// loaded by a <script> tag: a fetch of manifest.json would be refused on file:// pages), shows the
// items in the rater's order, keeps progress in localStorage (a reload resumes), and lets the rater
// download an answers JSON file to import back into GAN Studio. Keyboard first; every screen says
// its keys, and the answer keys also exist as buttons for a mouse or a screen reader.
/* global window, document, requestAnimationFrame */
(function () {
  'use strict';
  var app = document.getElementById('app');
  var bar = document.getElementById('progress');
  var fill = bar.firstElementChild;
  var counter = document.getElementById('counter');
  var status = document.getElementById('status');
  var fullscreenButton = document.getElementById('fullscreen');
  var kit = window.RATER_KIT;
  var cleanup = null;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) {
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }

  function fail(message) {
    if (cleanup) cleanup();
    cleanup = null;
    app.textContent = '';
    app.setAttribute('data-screen', 'error');
    app.appendChild(el('p', { class: 'error', role: 'alert', text: message }));
  }

  var TYPES = ['real_fake', 'timed_real_fake', 'preference', 'quality', 'duplicates', 'memorisation'];
  if (!kit || kit.format !== 'gan-studio-rater-kit' || !Array.isArray(kit.items)) {
    fail('manifest.js is missing or is not a GAN Studio rater kit. Open index.html from the kit folder GAN Studio wrote.');
    return;
  }
  if (kit.version !== 1 || TYPES.indexOf(kit.type) < 0) {
    fail('This kit (version ' + kit.version + ', type "' + kit.type + '") needs a newer rater page; export it again from GAN Studio.');
    return;
  }
  if (kit.items.length === 0) {
    fail('This kit holds no items.');
    return;
  }

  var total = kit.items.length;
  var storeKey = 'gan-studio-kit:' + kit.sessionId + ':' + kit.rater + ':' + kit.itemsHash;
  var storageOk = true;
  var state = load();
  /** false until the rater presses space on the first screen of this page load (also after a reload) */
  var begun = false;

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(storeKey) || 'null');
      if (s && Array.isArray(s.answers)) return s;
    } catch (err) {
      // private mode, storage disabled or a corrupt entry: start afresh
      storageOk = !(err && err.name === 'SecurityError');
    }
    return { answers: [], breakShownAt: -1 };
  }
  function save() {
    try {
      localStorage.setItem(storeKey, JSON.stringify(state));
      storageOk = true;
    } catch {
      // storage full or disabled: answers stay in memory until downloaded
      storageOk = false;
    }
  }

  var byId = {};
  kit.items.forEach(function (it) {
    byId[it.itemId] = it;
  });
  // answers of another item list (cannot happen with the hash in the key, but a hand-edited store could)
  state.answers = state.answers.filter(function (a) {
    return a && byId[a.itemId];
  });

  function answeredSet() {
    var set = {};
    state.answers.forEach(function (a) {
      set[a.itemId] = true;
    });
    return set;
  }
  function nextIndex() {
    var answered = answeredSet();
    for (var i = 0; i < total; i++) if (!answered[kit.items[i].itemId]) return i;
    return -1;
  }

  function updateProgress() {
    var done = state.answers.length;
    fill.style.width = (100 * done) / total + '%';
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(done));
    bar.setAttribute('aria-valuetext', done + ' of ' + total + ' answered');
    counter.textContent = done + ' / ' + total;
  }

  /** Replaces the screen; `focus` gets the keyboard focus (else the main region, so focus is never lost). */
  function setScreen(name, children, focus, announce) {
    if (cleanup) cleanup();
    cleanup = null;
    app.textContent = '';
    app.setAttribute('data-screen', name);
    children.forEach(function (c) {
      app.appendChild(c);
    });
    updateProgress();
    if (announce) status.textContent = announce;
    (focus || app).focus({ preventScroll: true });
  }

  /**
   * Keys for the current screen. A button marked data-native-keys that has the focus keeps space and
   * Enter for itself (its click does the same thing), so one key press never acts twice.
   */
  function onKeys(handler) {
    var fn = function (e) {
      if (e.repeat || e.altKey || e.ctrlKey || e.metaKey) return;
      var t = e.target;
      if (t && t.hasAttribute && t.hasAttribute('data-native-keys') && (e.key === ' ' || e.key === 'Enter')) return;
      if (handler(e.key.length === 1 ? e.key.toLowerCase() : e.key, e) !== false) e.preventDefault();
    };
    document.addEventListener('keydown', fn);
    var previous = cleanup;
    cleanup = function () {
      if (previous) previous();
      document.removeEventListener('keydown', fn);
    };
  }
  function onLeave(fn) {
    var previous = cleanup;
    cleanup = function () {
      if (previous) previous();
      fn();
    };
  }

  /** A button that is not in the tab order and never takes the focus: the keys stay with the screen. */
  function answerButton(key, label, onClick) {
    var b = el('button', { type: 'button', tabindex: '-1', 'aria-keyshortcuts': key.split(' / ')[0] }, [el('kbd', { text: key }), label]);
    b.addEventListener('mousedown', function (e) {
      e.preventDefault();
    });
    b.addEventListener('click', onClick);
    return b;
  }
  function keys(text) {
    return el('p', { class: 'keys', text: text });
  }

  function img(file, alt) {
    var i = el('img', { src: 'img/' + file, alt: alt, draggable: 'false', class: 'item-img' });
    i.addEventListener('error', function () {
      fail('The image img/' + file + ' is missing from the kit folder. Copy the whole folder, or export the kit again.');
    });
    return i;
  }
  /** Resolves once every image of the stage is decoded (a broken one shows the error screen). */
  function decoded(stage) {
    var imgs = Array.prototype.slice.call(stage.querySelectorAll('img'));
    return Promise.all(
      imgs.map(function (i) {
        return i.decode().catch(function () {});
      }),
    );
  }

  // ---- the HYPE_time staircase (the same rules as GAN Studio's core: common/rating-staircase.ts) ------
  function fnv(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    return h;
  }
  function truthOf(item) {
    // obscured, not secret: lets the staircase run offline
    return (item.t ^ (fnv(item.itemId + kit.salt) & 1)) === 1 ? 'real' : 'fake';
  }
  function clampMs(ms, r) {
    return Math.min(r.ceilingMs, Math.max(r.floorMs, Math.round(ms * 1000) / 1000));
  }
  function exposureFor(item) {
    var r = kit.staircase;
    if (!r) return 1000;
    var ms = clampMs(r.startMs, r);
    if (!item.block) return ms;
    state.answers.forEach(function (a) {
      var it = byId[a.itemId];
      if (!it || it.block !== item.block) return;
      ms = clampMs(a.answer.choice === truthOf(it) ? ms * r.down : ms / r.down, r);
    });
    return ms;
  }

  // ---- timed exposures (the same method as the studio's renderer/src/pages/ratings/exposure.ts) ------
  // A DOM change made in the callback of frame N is painted in frame N; the next callback is the first
  // moment we know it was. The exposure runs from "image painted" to "mask painted", both read the
  // same way, and the mask goes up on the frame boundary nearest the requested time.
  var WARMUP_FRAMES = 4;
  var MAX_REPEATS = 3;
  function presentFor(requestedMs, show, done) {
    var stamps = [];
    var shownAt = -1;
    var shownPaintedAt = -1;
    var maskedAt = -1;
    var frameMs = 1000 / 60;
    var cancelled = false;
    var maskDue = function (t) {
      return t - shownAt + frameMs / 2 >= requestedMs;
    };
    var tick = function (t) {
      if (cancelled) return;
      if (shownAt < 0) {
        stamps.push(t);
        if (stamps.length <= WARMUP_FRAMES) return requestAnimationFrame(tick);
        var deltas = stamps
          .slice(1)
          .map(function (s, i) {
            return s - stamps[i];
          })
          .sort(function (a, b) {
            return a - b;
          });
        frameMs = deltas[deltas.length >> 1] || frameMs;
        show(true);
        shownAt = t;
      } else if (shownPaintedAt < 0) {
        shownPaintedAt = t;
        if (maskDue(t)) {
          show(false);
          maskedAt = t;
        }
      } else if (maskedAt < 0) {
        if (maskDue(t)) {
          show(false);
          maskedAt = t;
        }
      } else {
        var measuredMs = t - shownPaintedAt;
        return done({ requestedMs: requestedMs, measuredMs: measuredMs, frames: Math.round(measuredMs / frameMs), frameMs: frameMs });
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    return function cancel() {
      cancelled = true;
      show(false);
    };
  }

  // ---- answers ------------------------------------------------------------------------------------
  var shownAt = 0;
  function record(item, answer, extra) {
    if (answeredSet()[item.itemId]) return;
    var a = { itemId: item.itemId, answer: answer, responseMs: Math.max(0, Math.round(performance.now() - shownAt)), answeredAt: Date.now() };
    if (extra && extra.exposureMs !== undefined) a.exposureMs = extra.exposureMs;
    state.answers.push(a);
    save();
    show();
  }

  function answersFile() {
    return JSON.stringify(
      {
        format: 'gan-studio-rater-answers',
        version: 1,
        sessionId: kit.sessionId,
        type: kit.type,
        rater: kit.rater,
        itemsHash: kit.itemsHash,
        signature: kit.signature,
        finished: state.answers.length === total,
        answers: state.answers,
      },
      null,
      1,
    );
  }
  function download() {
    var name = 'answers-' + kit.sessionId + '-' + kit.rater.replace(/[^A-Za-z0-9_-]+/g, '_') + '.json';
    var url = URL.createObjectURL(new Blob([answersFile()], { type: 'application/json' }));
    var a = el('a', { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 10000);
    status.textContent = 'The answers file ' + name + ' was saved to your downloads.';
  }

  // ---- screens ------------------------------------------------------------------------------------
  function start() {
    var done = state.answers.length;
    var go = el('button', { type: 'button', class: 'primary', 'data-native-keys': '', text: done ? 'Continue' : 'Begin' });
    var begin = function () {
      begun = true;
      show();
    };
    go.addEventListener('click', begin);
    var typeLabel = kit.title || 'Rating';
    var children = [
      el('h1', { text: typeLabel }),
      el('p', { text: kit.question }),
      keys('Keys: ' + kit.keys),
      el('p', { class: 'dim', text: 'Rater: ' + kit.rater + ' · ' + total + ' items' + (kit.breakEvery > 0 && total > kit.breakEvery ? ' · a short break is suggested every ' + kit.breakEvery + ' items' : '') }),
    ];
    if (done) children.push(el('p', { text: 'Welcome back: ' + done + ' of ' + total + ' items are answered; you continue where you stopped.' }));
    children.push(el('p', { class: storageOk ? 'dim' : 'error', text: storageOk ? 'Your answers are kept in this browser as you go, so you can close the page and come back.' : 'This browser does not let the page keep your answers: finish in one sitting and download them at the end.' }));
    children.push(go, keys('Press space to ' + (done ? 'continue' : 'begin') + '.'));
    setScreen('start', children, go, typeLabel + '. ' + (done ? done + ' of ' + total + ' answered. Press space to continue.' : 'Press space to begin.'));
    onKeys(function (k) {
      if (k !== ' ') return false;
      begin();
    });
  }

  function takeBreak(i) {
    state.breakShownAt = i;
    save();
    var go = el('button', { type: 'button', class: 'primary', 'data-native-keys': '', text: 'Continue' });
    go.addEventListener('click', show);
    setScreen('break', [el('h1', { text: 'Time for a short break.' }), el('p', { text: i + ' of ' + total + ' items are done. Rest your eyes for a minute; your answers are kept.' }), go, keys('Press space when you are ready to continue.')], go, 'Time for a short break. ' + i + ' of ' + total + ' done. Press space to continue.');
    onKeys(function (k) {
      if (k !== ' ') return false;
      show();
    });
  }

  function finished() {
    var button = el('button', { id: 'download', type: 'button', class: 'primary', 'data-native-keys': '', text: 'Download answers (D)' });
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
    onKeys(function (k) {
      if (k !== 'd' && k !== 'Enter') return false;
      download();
    });
  }

  function show() {
    var i = nextIndex();
    if (i < 0) return finished();
    if (!begun) return start();
    if (i > 0 && kit.breakEvery > 0 && i % kit.breakEvery === 0 && state.breakShownAt !== i) return takeBreak(i);
    var item = kit.items[i];
    renderers[kit.type](item, i);
  }

  /** The common frame of an item screen; `ready` runs once its images are decoded and painted. */
  function itemScreen(item, i, content, answers, keyText, ready) {
    var children = [el('p', { class: 'question', text: kit.question }), content, el('div', { class: 'answers' }, answers)];
    if (keyText) children.push(keys(keyText));
    var stage = el('div', { class: 'stage', 'data-item-id': item.itemId, 'data-position': String(i), 'data-ready': 'false' }, children);
    setScreen('item', [stage], null, 'Item ' + (i + 1) + ' of ' + total + '.');
    var live = true;
    onLeave(function () {
      live = false;
    });
    decoded(stage).then(function () {
      if (!live) return;
      // the response time starts with the first frame that shows the item
      requestAnimationFrame(function () {
        requestAnimationFrame(function (t) {
          if (!live) return;
          shownAt = t;
          stage.setAttribute('data-ready', 'true');
          if (ready) ready(stage);
        });
      });
    });
    return stage;
  }

  function realFakeKeys(item, i, onAnswer) {
    var fake = function () {
      onAnswer('fake');
    };
    var real = function () {
      onAnswer('real');
    };
    return {
      buttons: [answerButton('F / ←', 'fake', fake), answerButton('J / →', 'real', real)],
      handle: function (k) {
        if (k === 'f' || k === 'ArrowLeft') fake();
        else if (k === 'j' || k === 'ArrowRight') real();
        else return false;
      },
    };
  }

  var renderers = {
    real_fake: function (item, i) {
      var ready = false;
      var answer = function (choice) {
        if (ready) record(item, { kind: 'real_fake', choice: choice });
      };
      var k = realFakeKeys(item, i, answer);
      itemScreen(item, i, el('div', { class: 'images single' }, [img(item.files[0], 'the image to judge')]), k.buttons, null, function () {
        ready = true;
      });
      onKeys(k.handle);
    },
    timed_real_fake: function (item, i) {
      var want = exposureFor(item);
      var picture = img(item.files[0], 'the image, shown briefly');
      var flash = el('div', { class: 'flash' }, [picture, el('div', { class: 'mask', 'aria-hidden': 'true' })]);
      var phase = 'loading';
      var repeats = 0;
      var exposure = null;
      var cancel = null;
      var stage;
      var showButton;
      var setPhase = function (p) {
        phase = p;
        stage.setAttribute('data-timed-phase', p);
        showButton.disabled = p !== 'ready';
        k.buttons.forEach(function (b) {
          b.disabled = p !== 'masked';
        });
      };
      var answer = function (choice) {
        if (phase !== 'masked' || !exposure) return;
        record(item, { kind: 'real_fake', choice: choice }, { exposureMs: Math.round(exposure.measuredMs * 10) / 10 });
      };
      var k = realFakeKeys(item, i, answer);
      var reveal = function () {
        if (phase !== 'ready') return;
        setPhase('exposing');
        cancel = presentFor(
          want,
          function (visible) {
            // straight on the DOM inside the frame callback: the paint of this very frame shows it
            flash.classList.toggle('exposing', visible);
            if (visible) shownAt = performance.now();
          },
          function (e) {
            cancel = null;
            exposure = e;
            stage.setAttribute('data-exposure-measured', String(e.measuredMs));
            stage.setAttribute('data-exposure-frames', String(e.frames));
            if (Math.abs(e.measuredMs - e.requestedMs) > e.frameMs && repeats < MAX_REPEATS) {
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
        );
      };
      showButton = answerButton('Space', 'show the image', reveal);
      stage = itemScreen(item, i, flash, [showButton].concat(k.buttons), 'Space shows the image for ' + Math.round(want) + ' ms; then answer F / ← fake or J / → real', function () {
        setPhase('ready');
      });
      stage.setAttribute('data-exposure-requested', String(want));
      stage.setAttribute('data-exposure-repeats', '0');
      setPhase('loading');
      onLeave(function () {
        if (cancel) cancel();
      });
      onKeys(function (key) {
        if (key === ' ') return reveal();
        return k.handle(key);
      });
    },
    preference: function (item, i) {
      var ready = false;
      var answer = function (choice) {
        if (ready) record(item, { kind: 'preference', choice: choice });
      };
      var left = function () {
        answer('left');
      };
      var right = function () {
        answer('right');
      };
      var tie = function () {
        answer('tie');
      };
      itemScreen(
        item,
        i,
        el('div', { class: 'images' }, [img(item.files[0], 'left image'), img(item.files[1], 'right image')]),
        [answerButton('F / ←', 'left', left), answerButton('Space', 'cannot tell', tie), answerButton('J / →', 'right', right)],
        null,
        function () {
          ready = true;
        },
      );
      onKeys(function (k) {
        if (k === 'f' || k === 'ArrowLeft') left();
        else if (k === 'j' || k === 'ArrowRight') right();
        else if (k === ' ') tie();
        else return false;
      });
    },
    quality: function (item, i) {
      var ready = false;
      var answer = function (score) {
        if (ready) record(item, { kind: 'quality', score: score });
      };
      var labels = ['very poor', 'poor', 'fair', 'good', 'excellent'];
      var buttons = labels.map(function (label, s) {
        return answerButton(String(s + 1), label, function () {
          answer(s + 1);
        });
      });
      itemScreen(item, i, el('div', { class: 'images single' }, [img(item.files[0], 'the image to rate')]), buttons, null, function () {
        ready = true;
      });
      onKeys(function (k) {
        if (!/^[1-5]$/.test(k)) return false;
        answer(Number(k));
      });
    },
    duplicates: function (item, i) {
      var n = item.files.length;
      var cols = Math.round(Math.sqrt(n));
      var marked = {};
      var cursor = 0;
      var ready = false;
      var cells = item.files.map(function (f, c) {
        var b = el('button', { type: 'button', tabindex: '-1', 'aria-pressed': 'false', 'aria-label': 'image ' + (c + 1) + ' of ' + n }, [img(f, ''), el('span', { class: 'num', 'aria-hidden': 'true', text: c < 9 ? String(c + 1) : '' })]);
        b.addEventListener('mousedown', function (e) {
          e.preventDefault();
        });
        b.addEventListener('click', function () {
          cursor = c;
          toggle();
        });
        return b;
      });
      var grid = el('div', { class: 'grid', role: 'group', 'aria-label': 'images to check for near-duplicates' }, cells);
      grid.style.gridTemplateColumns = 'repeat(' + cols + ', auto)';
      var paint = function () {
        cells.forEach(function (c, j) {
          c.className = j === cursor ? 'cursor' : '';
          c.setAttribute('aria-pressed', marked[j] ? 'true' : 'false');
        });
      };
      var toggle = function () {
        marked[cursor] = !marked[cursor];
        paint();
        status.textContent = 'Image ' + (cursor + 1) + (marked[cursor] ? ' marked' : ' unmarked') + '.';
      };
      var submit = function () {
        if (!ready) return;
        var list = [];
        for (var j = 0; j < n; j++) if (marked[j]) list.push(j);
        record(item, { kind: 'duplicates', marked: list });
      };
      itemScreen(item, i, grid, [answerButton('Enter', 'submit', submit)], 'Arrows move · space or 1–9 marks / unmarks · Enter submits (none marked = no duplicates)', function () {
        ready = true;
      });
      paint();
      onKeys(function (k) {
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
    memorisation: function (item, i) {
      var ready = false;
      var answer = function (copy) {
        if (ready) record(item, { kind: 'memorisation', copy: copy });
      };
      var yes = function () {
        answer(true);
      };
      var no = function () {
        answer(false);
      };
      var pics = item.files.map(function (f, j) {
        return img(f, j === 0 ? 'the generated image' : 'training image ' + j);
      });
      itemScreen(item, i, el('div', { class: 'images memo' }, pics), [answerButton('N / F', 'not a copy', no), answerButton('Y / J', 'a copy', yes)], null, function () {
        ready = true;
      });
      onKeys(function (k) {
        if (k === 'y' || k === 'j') yes();
        else if (k === 'n' || k === 'f') no();
        else return false;
      });
    },
  };

  // full screen on request (a browser allows it only from a click or a key press)
  var syncFullscreen = function () {
    fullscreenButton.textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen';
  };
  fullscreenButton.addEventListener('click', function () {
    var p = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
    if (p && p.catch) p.catch(function () {});
  });
  document.addEventListener('fullscreenchange', syncFullscreen);
  if (!document.fullscreenEnabled) fullscreenButton.hidden = true;

  show();
})();
