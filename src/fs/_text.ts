/**
 * Private: the text layer of `AsyncFile`, after Python's `TextIOWrapper`.
 * Bytes are decoded only up to the last whole character (`Codec.wholeLength`),
 * so a multi-byte character is never split across reads, and the position of
 * the next character in the file is exact: the bytes not yet decoded plus the
 * byte length of the decoded characters not yet taken, back from `filePos`.
 *
 * @module
 */

import { charEnd, type Codec } from './_codec.js';
import { checkAborted, type Buffered } from './_buffered.js';

export class TextLayer {
  private _text = '';
  private _at = 0;
  /**
   * The bytes `_text` was decoded from, kept only when it holds a U+FFFD that
   * replaced bad bytes (then its `byteLength` is not its bytes' length); null
   * otherwise.
   */
  private _src: Buffer | null = null;

  constructor(
    private readonly _raw: Buffered,
    readonly codec: Codec,
  ) {}

  /** Decodes what the byte buffer holds, whole characters only (everything at the end of the file). */
  private _decode(eof: boolean): void {
    const view = this._raw.view();
    const n = eof ? view.length : this.codec.wholeLength(view, 0, view.length);
    if (n === 0) return;
    const text = this.codec.decode(view, 0, n);
    const src = this._raw.take(n); // a view of bytes the byte layer no longer changes
    const replaced = this.codec.replaces && text.includes('\ufffd');
    if (this._at === this._text.length) {
      this._src = replaced ? src : null;
      this._text = text;
    } else {
      if (replaced || this._src !== null) this._src = Buffer.concat([this._unreadSource(), src]);
      this._text = this._text.slice(this._at) + text;
    }
    this._at = 0;
  }

  /** The bytes of the decoded characters not yet taken. */
  private _unreadSource(): Buffer {
    if (this._src === null) return this.codec.encode(this._text.slice(this._at));
    return this._src.subarray(this.codec.sourceLength(this._src, this._at));
  }

  /** Reads and decodes one more chunk; false at the end of the file. */
  private async _more(signal: AbortSignal | undefined): Promise<boolean> {
    checkAborted(signal);
    const eof = (await this._raw.fill()) === 0;
    this._decode(eof);
    return !eof;
  }

  private _take(end: number): string {
    const out = this._text.slice(this._at, end);
    this._at = end;
    return out;
  }

  /** Reads `n` characters (code points), fewer only at the end of the file. */
  async read(n: number, signal: AbortSignal | undefined): Promise<string> {
    for (;;) {
      const end = charEnd(this._text, this._at, n);
      if (end >= 0) return this._take(end);
      if (!(await this._more(signal))) return this._take(this._text.length);
    }
  }

  /** Reads to the end of the file. */
  async readAll(signal: AbortSignal | undefined): Promise<string> {
    const bytes = await this._raw.readAll(signal); // every byte not yet decoded, to the end
    const rest = this._take(this._text.length);
    this._text = '';
    this._at = 0;
    this._src = null;
    return bytes.length === 0 ? rest : rest + this.codec.decode(bytes, 0, bytes.length);
  }

  /** Reads through the next `\n` (kept), at most `limit` characters (`-1`: no limit). */
  async readLine(limit: number, signal: AbortSignal | undefined): Promise<string> {
    // Characters after `_at` already searched: `_more` moves the unread text to the front, so
    // the count is kept relative to `_at`, never as an index into `_text`.
    let scanned = 0;
    for (;;) {
      const nl = this._text.indexOf('\n', this._at + scanned);
      const cut = limit >= 0 ? charEnd(this._text, this._at, limit) : -1;
      if (nl >= 0) return this._take(cut >= 0 ? Math.min(nl + 1, cut) : nl + 1);
      if (cut >= 0) return this._take(cut);
      scanned = this._text.length - this._at;
      if (!(await this._more(signal))) return this._take(this._text.length);
    }
  }

  /** The byte position of the next character to read. */
  tell(): number {
    if (this._at === this._text.length) return this._raw.pos();
    const rest =
      this._src === null ? this.codec.byteLength(this._text.slice(this._at)) : this._unreadSource().length;
    return this._raw.pos() - rest;
  }

  /** Forgets decoded text (before a seek or a write). */
  reset(): number {
    const pos = this.tell();
    this._text = '';
    this._at = 0;
    this._src = null;
    this._raw.drop(pos);
    return pos;
  }

  /** True if decoded characters are waiting to be read. */
  hasText(): boolean {
    return this._at < this._text.length;
  }
}
