// Hash routing: #/datasets, #/new?dataset=<id>, #/runs, #/runs/<id>, #/ratings, #/ratings/<id>,
// #/evaluate?run=<id>. Hash URLs work the same under
// http://127.0.0.1:<port>/ and Electron's app://studio/ without any server-side routes.

export type Route =
  | { page: 'datasets'; datasetId: string | null }
  | { page: 'new'; datasetId: string | null }
  | { page: 'runs' }
  | { page: 'run'; runId: string }
  | { page: 'ratings'; sessionId: string | null }
  | { page: 'evaluate'; runId: string | null };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case 'new':
      return { page: 'new', datasetId: params.get('dataset') };
    case 'runs':
      return parts[1] ? { page: 'run', runId: parts[1] } : { page: 'runs' };
    case 'datasets':
      return { page: 'datasets', datasetId: parts[1] ?? null };
    case 'ratings':
      return { page: 'ratings', sessionId: parts[1] ?? null };
    case 'evaluate':
      return { page: 'evaluate', runId: params.get('run') };
    default:
      return { page: 'datasets', datasetId: null };
  }
}

export function hrefFor(route: Route): string {
  switch (route.page) {
    case 'datasets':
      return route.datasetId ? `#/datasets/${encodeURIComponent(route.datasetId)}` : '#/datasets';
    case 'new':
      return route.datasetId ? `#/new?dataset=${encodeURIComponent(route.datasetId)}` : '#/new';
    case 'runs':
      return '#/runs';
    case 'run':
      return `#/runs/${encodeURIComponent(route.runId)}`;
    case 'ratings':
      return route.sessionId ? `#/ratings/${encodeURIComponent(route.sessionId)}` : '#/ratings';
    case 'evaluate':
      return route.runId ? `#/evaluate?run=${encodeURIComponent(route.runId)}` : '#/evaluate';
  }
}

export class HashRouter {
  #hash = $state('');
  #route = $derived(parseHash(this.#hash));

  constructor(initial = typeof location === 'undefined' ? '' : location.hash) {
    this.#hash = initial;
  }

  get route(): Route {
    return this.#route;
  }

  /** Listens to hashchange; returns the cleanup. */
  start(): () => void {
    const onChange = () => (this.#hash = location.hash);
    window.addEventListener('hashchange', onChange);
    onChange();
    return () => window.removeEventListener('hashchange', onChange);
  }

  go(route: Route): void {
    const href = hrefFor(route);
    if (location.hash !== href) location.hash = href;
    this.#hash = href;
  }

  reset(): void {
    this.#hash = '';
  }
}
