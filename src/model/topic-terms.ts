/**
 * Which terms to mask in a post (topic-fair scoring): the terms of every topic the post is in.
 * A topic's terms are its rules' terms (src/x/rule-terms.ts) and its own name: the tag, or the part
 * after its last ":" ("brand:acme" → "acme"), so a topic is masked even where no rules file is at
 * hand (a replay, a role without the rules).
 */
import { termOf, TopicMask, type Term } from './topic-mask.js';

/** Distinct sets of topics whose mask is kept; past it the cache starts again (bounded memory). */
const MAX_CACHED_MASKS = 4096;

/** One string for a post's topics (the key the workers get with each text): joined by U+0000, which no tag holds. */
export function topicsKey(topics: readonly string[]): string {
  return topics.length === 1 ? topics[0]! : topics.join('\u0000');
}

/** The rules' terms per topic, as structured clone carries them to the inference workers. */
export type TopicRuleTerms = readonly (readonly [string, readonly Term[]])[];

/** The name a tag stands for: "brand:acme" → "acme", "election" → "election". */
export function nameOfTag(tag: string): Term {
  return termOf(tag.slice(tag.lastIndexOf(':') + 1));
}

export class TopicTerms {
  readonly #byTopic: ReadonlyMap<string, readonly Term[]>;
  readonly #masks = new Map<string, TopicMask>();

  /** `byTopic`: the rules' terms per topic (may be empty). */
  constructor(byTopic: ReadonlyMap<string, readonly Term[]> = new Map()) {
    this.#byTopic = byTopic;
  }

  /** The terms it was built with, to build the same TopicTerms in a worker: `new TopicTerms(new Map(rules))`. */
  get rules(): TopicRuleTerms {
    return [...this.#byTopic];
  }

  /** Topics with terms from rules. */
  get ruleTopics(): number {
    return this.#byTopic.size;
  }

  termsOf(topic: string): Term[] {
    return [nameOfTag(topic), ...(this.#byTopic.get(topic) ?? [])];
  }

  /** The mask for a post in these topics. */
  maskFor(topics: readonly string[]): TopicMask {
    return this.maskForKey(topicsKey(topics));
  }

  /** The mask for a post whose topics are `key` (topicsKey). */
  maskForKey(key: string): TopicMask {
    let mask = this.#masks.get(key);
    if (mask === undefined) {
      if (this.#masks.size >= MAX_CACHED_MASKS) this.#masks.clear();
      const topics = key === '' ? [] : key.split('\u0000');
      mask = new TopicMask(topics.flatMap((t) => this.termsOf(t)));
      this.#masks.set(key, mask);
    }
    return mask;
  }

  /** The text the model scores for a post in these topics. */
  apply(text: string, topics: readonly string[]): string {
    return this.maskFor(topics).apply(text);
  }
}
