/**
 * Node decodes header bytes as latin1; clients sign the UTF-8 text. Recover
 * the text before it goes into a string to sign, or a non-ASCII header value
 * (a user-metadata value, a Content-Disposition file name) breaks signatures.
 */
export function headerText(value: string): string {
  return Buffer.from(value, 'latin1').toString('utf8');
}
