/**
 * Okapi BM25 over a small document set (a folder of markdown lessons): the standard ranking function
 * of search engines, so "most relevant" means term frequency saturated by k1, normalised by document
 * length (b), weighted by inverse document frequency — not a substring hit.
 */

export interface Bm25Options {
  k1?: number;
  b?: number;
}

export interface Ranked<T> {
  doc: T;
  score: number;
}

const STOP = new Set('a an and are as at be by for from has have in is it its of on or that the this to was were will with'.split(' '));

/** Lowercased word tokens, stop words dropped, a naive plural/-ing stem so "tests" matches "test". */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().match(/[a-z0-9_]+/g) ?? []) {
    if (raw.length < 2 || STOP.has(raw)) continue;
    out.push(stem(raw));
  }
  return out;
}

function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('es') && !word.endsWith('ses')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

export function rankBm25<T>(docs: readonly T[], textOf: (doc: T) => string, query: string, options: Bm25Options = {}): Ranked<T>[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const terms = [...new Set(tokenize(query))];
  if (terms.length === 0 || docs.length === 0) return [];
  const tokenized = docs.map((d) => tokenize(textOf(d)));
  const avgLen = tokenized.reduce((n, t) => n + t.length, 0) / docs.length || 1;
  const df = new Map<string, number>();
  for (const tokens of tokenized) for (const term of new Set(tokens)) df.set(term, (df.get(term) ?? 0) + 1);
  const n = docs.length;
  const ranked: Ranked<T>[] = [];
  tokenized.forEach((tokens, i) => {
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    let score = 0;
    for (const term of terms) {
      const f = tf.get(term);
      if (!f) continue;
      const docFreq = df.get(term) ?? 0;
      // The "+1" form of IDF keeps scores positive even for terms in most documents.
      const idf = Math.log(1 + (n - docFreq + 0.5) / (docFreq + 0.5));
      score += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * tokens.length) / avgLen));
    }
    if (score > 0) ranked.push({ doc: docs[i], score });
  });
  return ranked.sort((x, y) => y.score - x.score);
}
