// Splitting a list into frames of bounded size, each item serialized once.
import { Buffer } from "node:buffer";

/** A page of items and their JSON array text. */
export interface Page<T> {
  items: T[];
  /** `JSON.stringify(items)`, built from each item's JSON. */
  json: string;
  /** The UTF-8 size of `json`. */
  bytes: number;
}

/**
 * Splits `items` into pages whose JSON array is at most `maxBytes` (UTF-8), in order. A page
 * holds at least one item, so an item larger than `maxBytes` travels alone (its size is bounded
 * by the message limit it was accepted under).
 *
 * @example for (const page of pagesOf(entries, 256 * 1024)) send(frame(page.json));
 */
export function pagesOf<T>(items: readonly T[], maxBytes: number): Page<T>[] {
  const pages: Page<T>[] = [];
  let current: Page<T> & { parts: string[] } = { items: [], json: "", bytes: 2, parts: [] };
  const finish = () => {
    if (current.items.length === 0) return;
    pages.push({
      items: current.items,
      json: `[${current.parts.join(",")}]`,
      bytes: current.bytes,
    });
  };
  for (const item of items) {
    const json = JSON.stringify(item);
    const bytes = Buffer.byteLength(json) + 1;
    if (current.items.length > 0 && current.bytes + bytes > maxBytes) {
      finish();
      current = { items: [], json: "", bytes: 2, parts: [] };
    }
    current.items.push(item);
    current.parts.push(json);
    current.bytes += bytes;
  }
  finish();
  return pages;
}

/** The bytes a frame's envelope adds around its payload's list (type, head, ids, timestamps). */
export const FRAME_OVERHEAD = 512;
